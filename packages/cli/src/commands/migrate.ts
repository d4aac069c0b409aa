import { migrateToLatest } from "@fanfare-relay/db/migrate";
import { Command } from "commander";
import { addConnectionOptions, parseConnectionConfig } from "../connection-options.ts";
import { databaseError, openDatabase } from "../database.ts";
import { outputOf } from "../output.ts";

export function migrateCommand(env: NodeJS.ProcessEnv = process.env): Command {
  const command = new Command("migrate").description(
    "Bring the database schema up to date (safe to run repeatedly and concurrently)",
  );
  addConnectionOptions(command, "databaseUrl", "timeout");
  return command.action(async (_options: unknown, self: Command) => {
    const config = parseConnectionConfig(["databaseUrl", "timeout"], self.opts(), env);
    const out = outputOf(self);
    const db = openDatabase({ url: config.databaseUrl, connectTimeoutMs: config.timeout * 1000 });
    try {
      const result = await migrateToLatest(db).catch((error: unknown) => {
        throw databaseError(config.databaseUrl, error);
      });
      const applied = result.results?.map((migration) => migration.migrationName) ?? [];
      if (applied.length === 0) out.line("up to date");
      for (const name of applied) out.line(`applied ${name}`);
    } finally {
      await db.destroy();
    }
  });
}
