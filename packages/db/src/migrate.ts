import { Migrator, type Kysely, type Migration, type MigrationResultSet } from "kysely";
import * as initial from "./migrations/0001-initial.ts";
import * as jobDataEdits from "./migrations/0002-job-data-edits.ts";
import * as failureBookkeeping from "./migrations/0003-failure-bookkeeping.ts";
import * as consumerMailLookups from "./migrations/0004-consumer-mail-lookups.ts";

/** Migrations are listed in code, not read from a folder, so they ship inside any bundle. */
const migrations: Record<string, Migration> = {
  "0001-initial": initial,
  "0002-job-data-edits": jobDataEdits,
  "0003-failure-bookkeeping": failureBookkeeping,
  "0004-consumer-mail-lookups": consumerMailLookups,
};

const provider = { getMigrations: () => Promise.resolve(migrations) };

/** The migrations this code knows, in order. */
export const migrationNames: readonly string[] = Object.keys(migrations);

/**
 * The code's migrations the database has not run, in order. Read-only: a database never migrated
 * (no migration table) has every migration pending, and nothing is created to find that out.
 */
export async function listPendingMigrations<DB>(db: Kysely<DB>): Promise<string[]> {
  const state = await new Migrator({ db, provider }).getMigrations();
  return state.filter((migration) => migration.executedAt === undefined).map((m) => m.name);
}

export class MigrationError extends Error {
  override name = "MigrationError";
}

/** Brings the schema up to date; safe to run concurrently and repeatedly (kysely takes a lock). */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider });
  const result = await migrator.migrateToLatest();
  if (result.error !== undefined) {
    const failed = result.results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    const cause =
      result.error instanceof Error ? result.error.message : JSON.stringify(result.error);
    throw new MigrationError(`migration ${failed} failed: ${cause}`);
  }
  return result;
}
