import { sql, type Kysely } from "kysely";
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../src/connect.ts";
import { migrateToLatest, migrationNames } from "../src/migrate.ts";
import type { Database } from "../src/schema.ts";

// A database of its own per test file, on the PostgreSQL the suite runs against.
const adminUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const name = `fanfare_test_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
const url = new URL(adminUrl);
url.pathname = `/${name}`;

let db: Kysely<Database>;
beforeAll(async () => {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  db = connect({ connectionString: url.toString() });
});
afterAll(async () => {
  await db.destroy();
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
});

const tables = [
  "admissions",
  "analytics_events",
  "auction_bids",
  "auctions",
  "consumers",
  "draw_entries",
  "draw_winners",
  "email_outbox",
  "experiences",
  "job_data_edits",
  "queue_participants",
  "reservations",
  "webhook_dead_letters",
  "webhook_events",
];

describe("migrations", () => {
  it("create every table operators query, and run concurrently and repeatedly without harm", async () => {
    const results = await Promise.all([migrateToLatest(db), migrateToLatest(db)]);
    const applied = results.flatMap((r) => r.results ?? []).filter((r) => r.status === "Success");
    expect(applied.map((r) => r.migrationName)).toEqual(migrationNames);
    expect((await migrateToLatest(db)).results).toEqual([]);

    const rows = await sql<{ table_name: string }>`
      SELECT table_name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_name NOT LIKE 'kysely_%' ORDER BY table_name`.execute(
      db,
    );
    expect(rows.rows.map((r) => r.table_name)).toEqual(tables);
  });

  it("enforce one webhook_events row per event id and the documented statuses", async () => {
    const row = {
      event_id: "evt_1",
      type: "queue.consumer_left",
      family: "queue",
      status: "processing" as const,
      event_created_at: new Date(),
    };
    await db.insertInto("webhook_events").values(row).execute();
    await expect(db.insertInto("webhook_events").values(row).execute()).rejects.toThrow(
      /duplicate key/,
    );
    await expect(
      db
        .insertInto("webhook_events")
        .values({ ...row, event_id: "evt_2", status: "bogus" as never })
        .execute(),
    ).rejects.toThrow(/check constraint/);
  });

  it("enforce one logical email and one dead letter per event", async () => {
    const email = {
      email_key: "admission-granted:exp_1:con_1",
      message_id: "<admission-granted.exp_1.con_1@fanfare-relay>",
      event_id: "evt_1",
      template: "admission-granted",
      to_address: "ada@example.com",
      subject: "You're in",
      text_body: "text",
      html_body: "<p>html</p>",
    };
    await db.insertInto("email_outbox").values(email).execute();
    await expect(
      db
        .insertInto("email_outbox")
        .values({ ...email, message_id: "<other@x>" })
        .execute(),
    ).rejects.toThrow(/duplicate key/);
    const letter = {
      event_id: "evt_9",
      type: "draw.prize_claimed",
      queue_name: "fanfare-draw",
      job_id: "evt_9",
      payload: JSON.stringify({ id: "evt_9" }),
      error: "boom",
    };
    await db.insertInto("webhook_dead_letters").values(letter).execute();
    await expect(db.insertInto("webhook_dead_letters").values(letter).execute()).rejects.toThrow(
      /duplicate key/,
    );
  });

  it("store money as integer minor units and read it back as numbers", async () => {
    await db
      .insertInto("auction_bids")
      .values({
        bid_id: "bid_1",
        auction_id: "auc_1",
        experience_id: "exp_1",
        consumer_id: "con_1",
        amount: 27_500,
        currency: "USD",
        placed_at: "2025-11-26T10:30:00.000Z",
      })
      .execute();
    const bid = await db
      .selectFrom("auction_bids")
      .selectAll()
      .where("bid_id", "=", "bid_1")
      .executeTakeFirstOrThrow();
    expect(bid.amount).toBe(27_500);
    expect(bid.placed_at).toBeInstanceOf(Date);
    await expect(
      db
        .insertInto("auction_bids")
        .values({
          bid_id: "bid_2",
          auction_id: "a",
          experience_id: "e",
          consumer_id: "c",
          amount: -1,
          currency: "USD",
          placed_at: new Date(),
        })
        .execute(),
    ).rejects.toThrow(/check constraint/);
  });
});
