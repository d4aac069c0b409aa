import { listPendingMigrations } from "@fanfare-relay/db/migrate";
import { sql, type Kysely } from "kysely";
import { fail, ok, type CheckResult } from "./check.ts";

export async function checkPostgres<DB>(db: Kysely<DB>, where: string): Promise<CheckResult> {
  const { rows } = await sql<{ version: string }>`select version() as version`.execute(db);
  const version = rows[0]?.version ?? "";
  // "PostgreSQL 16.4 (Debian 16.4-1.pgdg120+2) on x86_64-pc-linux-gnu, …" → "PostgreSQL 16.4".
  const short = /^\S+ [\d.]+/.exec(version)?.[0] ?? version;
  return ok("postgres", `${short} at ${where}`);
}

export async function checkMigrations<DB>(db: Kysely<DB>): Promise<CheckResult> {
  const pending = await listPendingMigrations(db);
  if (pending.length === 0) return ok("migrations", "up to date");
  return fail(
    "migrations",
    `${String(pending.length)} pending: ${pending.join(", ")}`,
    "run `pnpm db:migrate` (or `fanfare-relay migrate`) against this database before starting the workers",
  );
}
