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

/**
 * A migration that failed, by name, with why (PostgreSQL's message and SQLSTATE) and where that
 * leaves the database. Its message is one paragraph fit for an operator, no stack needed:
 * `migration 0002-job-data-edits failed: relation "job_data_edits" already exists (PostgreSQL
 * 42P07). Applied before it: 0001-initial. Not applied: 0002-job-data-edits, … (this run was
 * rolled back; fix the cause and run the migration again).`
 */
export class MigrationError extends Error {
  override name = "MigrationError";

  constructor(
    /** The failing migration's name. */
    readonly migration: string,
    /** The database error's own message (PostgreSQL's, for a failed statement). */
    readonly reason: string,
    /**
     * Migrations the database has after the failure, in order (earlier runs' included); undefined
     * when that could not be read (the connection was lost too).
     */
    readonly applied: readonly string[] | undefined,
    /** Migrations still to run: the failing one, those after it, any rolled back with it. */
    readonly pending: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(
      `migration ${migration} failed: ${reason}. ` +
        `Applied before it: ${applied === undefined ? "unknown (the migration table could not be read)" : applied.length > 0 ? applied.join(", ") : "none"}. ` +
        `Not applied: ${pending.join(", ")} (this run was rolled back; fix the cause and run the migration again).`,
      options,
    );
  }
}

/** A database error's message with its SQLSTATE, detail and hint, as PostgreSQL gives them. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return typeof error === "string" ? error : JSON.stringify(error);
  // Not PostgreSQL's `detail`: it quotes row values (`Key (email)=(…)`), and workers log this.
  const { code, hint } = error as { code?: unknown; hint?: unknown };
  return [
    `${error.message}${typeof code === "string" ? ` (PostgreSQL ${code})` : ""}`,
    ...(typeof hint === "string" ? [`hint: ${hint}`] : []),
  ].join("; ");
}

/**
 * Brings the schema up to date; safe to run concurrently and repeatedly (kysely takes a lock).
 * A failing migration throws MigrationError naming it. `list` replaces the code's migrations, for
 * tests only (e.g. one that fails on purpose).
 */
export async function migrateToLatest<DB>(
  db: Kysely<DB>,
  list: Record<string, Migration> = migrations,
): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: list === migrations ? provider : { getMigrations: () => Promise.resolve(list) },
  });
  const result = await migrator.migrateToLatest();
  if (result.error !== undefined) {
    const failed = result.results?.find((r) => r.status === "Error")?.migrationName;
    // Failed before any migration ran (no connection, no lock): that error says it all.
    if (failed === undefined) {
      throw result.error instanceof Error ? result.error : new Error(reasonOf(result.error));
    }
    // What the database holds now: PostgreSQL rolls the whole run back (kysely runs it in one
    // transaction), so this run's "successes" before the failure are not there either.
    const state = await migrator.getMigrations().catch(() => undefined);
    const applied = state?.filter((m) => m.executedAt !== undefined).map((m) => m.name);
    const names = Object.keys(list);
    const pending =
      state?.filter((m) => m.executedAt === undefined).map((m) => m.name) ??
      names.slice(names.indexOf(failed));
    throw new MigrationError(failed, reasonOf(result.error), applied, pending, {
      cause: result.error,
    });
  }
  return result;
}
