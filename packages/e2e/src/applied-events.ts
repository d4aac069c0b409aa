import type { Database } from "@fanfare-relay/db/schema";
import { waitUntil } from "@fanfare-relay/testing/spawn-app";
import { sql, type Kysely } from "kysely";

/** Resolves once every id's `webhook_events` row is `completed`; rejects after `timeoutMs`. */
export async function waitForCompleted(
  db: Kysely<Database>,
  ids: readonly string[],
  timeoutMs: number,
): Promise<void> {
  await waitUntil(async () => {
    const { count } = await db
      .selectFrom("webhook_events")
      .select(sql<string>`count(*)`.as("count"))
      .where("status", "=", "completed")
      .where("event_id", "in", ids)
      .executeTakeFirstOrThrow();
    return Number(count) === ids.length;
  }, timeoutMs);
}

/**
 * How many times each id's effect was applied, counted by its analytics row (every handler
 * records exactly one per applied event): `{ applied, notOnce }` with the ids seen and those seen
 * other than once.
 */
export async function effectCounts(
  db: Kysely<Database>,
  ids: readonly string[],
): Promise<{ applied: number; notOnce: string[] }> {
  const rows = await db
    .selectFrom("analytics_events")
    .select(["event_id", sql<string>`count(*)`.as("count")])
    .where("event_id", "in", ids)
    .groupBy("event_id")
    .execute();
  return {
    applied: rows.length,
    notOnce: rows.filter((row) => Number(row.count) !== 1).map((row) => row.event_id),
  };
}
