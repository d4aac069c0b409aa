import { Command } from "commander";
import { deadLettersCommand } from "./commands/dead-letters.ts";
import { doctorCommand } from "./commands/doctor.ts";
import { migrateCommand } from "./commands/migrate.ts";
import { sendCommand } from "./commands/send.ts";
import { simulateCommand } from "./commands/simulate.ts";

/** The `fanfare-relay` command; a factory so tests can run it in-process with their own output. */
export function buildProgram(): Command {
  return new Command("fanfare-relay")
    .description("Developer and operator tools for fanfare-relay")
    .showHelpAfterError()
    .addCommand(sendCommand())
    .addCommand(simulateCommand())
    .addCommand(deadLettersCommand())
    .addCommand(migrateCommand())
    .addCommand(doctorCommand());
}
