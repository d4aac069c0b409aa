import { Command } from "commander";
import { deadLettersCommand } from "./commands/dead-letters.ts";
import { doctorCommand } from "./commands/doctor.ts";
import { migrateCommand } from "./commands/migrate.ts";
import { sendCommand } from "./commands/send.ts";
import { simulateCommand } from "./commands/simulate.ts";

/**
 * The `fanfare-relay` command; a factory so tests can run it in-process with their own output.
 * `env` is where every command reads its variables; bin.ts passes cliEnv() (the environment over
 * the repository's `.env`, else `.env.example`).
 */
export function buildProgram(env: NodeJS.ProcessEnv = process.env): Command {
  return new Command("fanfare-relay")
    .description("Developer and operator tools for fanfare-relay")
    .showHelpAfterError()
    .addCommand(sendCommand(env))
    .addCommand(simulateCommand(env))
    .addCommand(deadLettersCommand(env))
    .addCommand(migrateCommand(env))
    .addCommand(doctorCommand(env));
}
