import { createTestDatabase, type TestDatabase } from "@fanfare-relay/testing/postgres";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lockEntities, type EntityLock } from "../src/entity-locks.ts";
import { waitUntil } from "@fanfare-relay/testing/spawn-app";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase("entity-locks");
});
afterAll(async () => {
  await database.drop();
});

const consumers = (...ids: string[]): EntityLock[] => ids.map((id) => ({ space: "consumer", id }));

describe("fault: two batches whose consumer ids collide on the lock's hash", () => {
  // hashtext('con_1661') = hashtext('con_214822') and hashtext('con_112996') = hashtext('con_232269'):
  // sorted by id, A would lock hash 1 then hash 2 and B hash 2 then hash 1.
  it("A locks con_1661, con_2, con_232269 ∥ B locks con_112996, con_2, con_214822, both stopped at con_2 (held by a third) → no deadlock: both commit", async () => {
    const { db } = database;
    const collisions = await sql<{ first: boolean; second: boolean }>`
      SELECT hashtext('con_1661') = hashtext('con_214822') AS first,
             hashtext('con_112996') = hashtext('con_232269') AS second`.execute(db);
    expect(collisions.rows[0]).toEqual({ first: true, second: true });

    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const waitingOnLocks = async () => {
      const { rows } = await sql<{ waiting: number }>`
        SELECT count(*)::int AS waiting FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(db);
      return rows[0]?.waiting ?? 0;
    };
    let held: () => void = () => undefined;
    const holding = new Promise<void>((resolve) => {
      held = resolve;
    });
    const holder = db.transaction().execute(async (tx) => {
      await lockEntities(tx, consumers("con_2"));
      held();
      await released;
    });
    await holding;
    const batch = (...ids: string[]) =>
      db.transaction().execute(async (tx) => {
        await lockEntities(tx, consumers(...ids));
      });
    // Both batches start while con_2 is held: each takes what it can, then waits.
    const a = batch("con_1661", "con_2", "con_232269");
    const b = batch("con_112996", "con_2", "con_214822");
    await waitUntil(async () => (await waitingOnLocks()) >= 2);
    release();
    const results = await Promise.allSettled([holder, a, b]);
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
  }, 20_000);
});
