import { testDatabaseAdminUrl } from "@fanfare-relay/testing/postgres";
import { randomUUID } from "node:crypto";
import pg from "pg";

export interface EmptyDatabase {
  url: string;
  drop(): Promise<void>;
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: testDatabaseAdminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** A throw-away database like createTestDatabase's, but never migrated. */
export async function createEmptyDatabase(label: string): Promise<EmptyDatabase> {
  const name = `fanfare_test_${label}_${randomUUID().replaceAll("-", "").slice(0, 10)}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(testDatabaseAdminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
