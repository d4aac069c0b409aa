// `pnpm db:migrate`: brings the database named by DATABASE_URL up to date.
import { z } from "zod";
import { connect } from "../connect.ts";
import { migrateToLatest, MigrationError } from "../migrate.ts";

const env = z
  .object({
    DATABASE_URL: z
      .string({ error: "is required, e.g. postgres://user@127.0.0.1:5432/fanfare" })
      .min(1, "is required, e.g. postgres://user@127.0.0.1:5432/fanfare"),
  })
  .safeParse(process.env);
if (!env.success) {
  process.stderr.write(`DATABASE_URL ${env.error.issues[0]?.message ?? "is invalid"}\n`);
  process.exit(1);
}

const db = connect({ connectionString: env.data.DATABASE_URL, max: 1 });
try {
  const result = await migrateToLatest(db);
  const applied = result.results?.map((r) => r.migrationName) ?? [];
  process.stdout.write(
    applied.length > 0 ? `applied: ${applied.join(", ")}\n` : "already up to date\n",
  );
} catch (error) {
  process.stderr.write(
    `${error instanceof MigrationError || error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
} finally {
  await db.destroy();
}
