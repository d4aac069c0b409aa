import { connect } from "@fanfare-relay/db/connect";
import { migrateToLatest } from "@fanfare-relay/db/migrate";
import type { Database } from "@fanfare-relay/db/schema";
import type { Kysely } from "kysely";
import { randomUUID } from "node:crypto";
import pg from "pg";

/** The PostgreSQL the suite runs against; each test file gets a database of its own on it. */
export const testDatabaseAdminUrl =
  process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  url: string;
  db: Kysely<Database>;
  drop(): Promise<void>;
}

/** Runs one statement (CREATE/DROP DATABASE …) as the test server's admin, on its own connection. */
export async function runAsAdmin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: testDatabaseAdminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Creates a throw-away database, migrated to the latest schema unless `migrate` is false. */
export async function createTestDatabase(
  label: string,
  { migrate = true }: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const name = `fanfare_test_${label.replace(/\W/g, "_")}_${randomUUID().replaceAll("-", "").slice(0, 10)}`;
  await runAsAdmin(`CREATE DATABASE ${name}`);
  const url = new URL(testDatabaseAdminUrl);
  url.pathname = `/${name}`;
  const db = connect({ connectionString: url.toString(), max: 20 });
  if (migrate) await migrateToLatest(db);
  return {
    url: url.toString(),
    db,
    async drop() {
      await db.destroy();
      await runAsAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
