import { Migrator, type Kysely, type Migration, type MigrationResultSet } from "kysely";
import * as initial from "./migrations/0001-initial.ts";

/** Migrations are listed in code, not read from a folder, so they ship inside any bundle. */
const migrations: Record<string, Migration> = {
  "0001-initial": initial,
};

export class MigrationError extends Error {
  override name = "MigrationError";
}

/** Brings the schema up to date; safe to run concurrently and repeatedly (kysely takes a lock). */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
  });
  const result = await migrator.migrateToLatest();
  if (result.error !== undefined) {
    const failed = result.results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    const cause =
      result.error instanceof Error ? result.error.message : JSON.stringify(result.error);
    throw new MigrationError(`migration ${failed} failed: ${cause}`);
  }
  return result;
}
