import { migrationNames } from "@fanfare-relay/db/migrate";
import { createTestDatabase, type TestDatabase } from "@fanfare-relay/testing/postgres";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./capture-cli.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase("cli_migrate", { migrate: false });
});
afterAll(async () => {
  await database.drop();
});

describe("fanfare-relay migrate", () => {
  it("applies every migration to an empty database, then finds it up to date", async () => {
    const first = await runCli(["migrate", "--database-url", database.url]);
    expect(first.error).toBeUndefined();
    expect(first.stdout).toBe(migrationNames.map((name) => `applied ${name}\n`).join(""));

    const second = await runCli(["migrate", "--database-url", database.url]);
    expect(second.error).toBeUndefined();
    expect(second.stdout).toBe("up to date\n");
  });

  it("a failing migration → its name, PostgreSQL's reason, what was applied before it", async () => {
    const broken = await createTestDatabase("cli_migrate_broken", { migrate: false });
    try {
      // 0002's table, created by hand with another shape before any migration.
      await sql`CREATE TABLE job_data_edits (id text)`.execute(broken.db);

      const run = await runCli(["migrate", "--database-url", broken.url]);
      expect(run.stdout).toBe("");
      expect(run.error).toMatchObject({
        code: "CLI_DATABASE_ERROR",
        message: expect.stringContaining(
          'migration 0002-job-data-edits failed: relation "job_data_edits" already exists (PostgreSQL 42P07). ' +
            // 0001 ran in the same transaction, rolled back with it.
            `Applied before it: none. Not applied: ${migrationNames.join(", ")} (this run was rolled back`,
        ),
      });
    } finally {
      await broken.drop();
    }
  });

  it("names the server, without its password, when it cannot connect", async () => {
    const run = await runCli([
      "migrate",
      "--database-url",
      "postgres://postgres:hunter2@127.0.0.1:1/postgres",
    ]);
    expect(run.error).toMatchObject({
      code: "CLI_DATABASE_ERROR",
      message: expect.stringContaining("postgres://postgres:***@127.0.0.1:1/postgres"),
    });
    expect(String(run.error)).not.toContain("hunter2");
  });

  it("refuses a URL that is not postgres://", async () => {
    const run = await runCli(["migrate", "--database-url", "mysql://localhost/db"]);
    expect(run.error).toMatchObject({
      code: "CLI_BAD_OPTION",
      message: "--database-url must be a postgres:// URL",
    });
  });
});
