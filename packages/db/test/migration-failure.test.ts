import { Migrator, sql, type Kysely, type Migration } from "kysely";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { connect } from "../src/connect.ts";
import { migrateToLatest, MigrationError, migrationNames } from "../src/migrate.ts";

// Databases of their own, on the PostgreSQL the suite runs against.
const adminUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const created: string[] = [];
const open: Kysely<unknown>[] = [];

async function asAdmin(statement: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(statement);
  } finally {
    await admin.end();
  }
}

async function freshDatabase(): Promise<{ url: string; db: Kysely<unknown> }> {
  const name = `fanfare_test_migfail_${randomUUID().replaceAll("-", "").slice(0, 10)}`;
  await asAdmin(`CREATE DATABASE ${name}`);
  created.push(name);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = connect({ connectionString: url.toString(), max: 1 }) as Kysely<unknown>;
  open.push(db);
  return { url: url.toString(), db };
}

afterAll(async () => {
  for (const db of open) await db.destroy();
  for (const name of created) await asAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

const statement = (text: string): Migration => ({
  up: async (db) => {
    await sql.raw(text).execute(db);
  },
});

const tables = async (db: Kysely<unknown>) =>
  (
    await sql<{ table_name: string }>`
      SELECT table_name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_name NOT LIKE 'kysely_%' ORDER BY table_name`.execute(
      db,
    )
  ).rows.map((row) => row.table_name);

describe("a failed migration", () => {
  it("names itself, PostgreSQL's reason, what the database has and what it has not", async () => {
    const { db } = await freshDatabase();
    const first = { "0001-first": statement("CREATE TABLE first (id int)") };
    await migrateToLatest(db, first);
    const list = {
      ...first,
      "0002-second": statement("CREATE TABLE second (id int)"),
      "0003-broken": statement("CREATE TABLE first (name text)"),
      "0004-after": statement("CREATE TABLE after (id int)"),
    };

    const error = await migrateToLatest(db, list).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(MigrationError);
    expect(error).toMatchObject({
      migration: "0003-broken",
      reason: 'relation "first" already exists (PostgreSQL 42P07)',
      // PostgreSQL rolled the whole run back: 0002-second, "applied" in it, is not there.
      applied: ["0001-first"],
      pending: ["0002-second", "0003-broken", "0004-after"],
    });
    expect((error as Error).message).toBe(
      'migration 0003-broken failed: relation "first" already exists (PostgreSQL 42P07). ' +
        "Applied before it: 0001-first. Not applied: 0002-second, 0003-broken, 0004-after " +
        "(this run was rolled back; fix the cause and run the migration again).",
    );
    expect(await tables(db)).toEqual(["first"]);
  });

  it("stops `pnpm db:migrate` with exit code 1 and that message, no stack trace", async () => {
    // The real migrations, against a database where 0002's table exists with another shape.
    const { url, db } = await freshDatabase();
    await new Migrator({
      db,
      provider: {
        getMigrations: async () => ({
          "0001-initial": await import("../src/migrations/0001-initial.ts"),
        }),
      },
    }).migrateToLatest();
    await sql`CREATE TABLE job_data_edits (id text)`.execute(db);

    const child = spawn(
      process.execPath,
      ["--conditions=development", "--import", "tsx", "src/bin/migrate.ts"],
      {
        cwd: fileURLToPath(new URL("..", import.meta.url)),
        env: { ...process.env, DATABASE_URL: url },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => child.once("close", resolve));

    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      'migration 0002-job-data-edits failed: relation "job_data_edits" already exists (PostgreSQL 42P07). ' +
        `Applied before it: 0001-initial. Not applied: ${migrationNames.slice(1).join(", ")} ` +
        "(this run was rolled back; fix the cause and run the migration again).\n",
    );
    expect(stderr).not.toMatch(/^\s+at /m);
    // A node process with the tsx loader: seconds when the whole suite runs at once.
  }, 30_000);
});
