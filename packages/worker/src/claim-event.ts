import type { Database } from "@fanfare-relay/db/schema";
import type { TypedEvent } from "@fanfare-relay/events/catalogue";
import type { Family } from "@fanfare-relay/events/families";
import { sql, type Transaction } from "kysely";

/**
 * `first`: never seen before (the usual case). `again`: seen and not applied (an earlier attempt
 * failed, so there may be a dead letter to resolve). `applied`: already applied, nothing to do.
 */
export type Claim = "first" | "again" | "applied";

/**
 * Marks the event completed inside the transaction that applies it. A second worker racing on the
 * same event waits on the row lock, then sees `completed` and applies nothing; if the first one
 * rolled back, the second one claims it.
 */
export async function claimEvent(
  tx: Transaction<Database>,
  event: TypedEvent,
  family: Family,
): Promise<Claim> {
  const now = new Date();
  const claimed = await tx
    .insertInto("webhook_events")
    .values({
      event_id: event.id,
      type: event.type,
      family,
      status: "completed",
      attempts: 1,
      organization_id: event.organizationId,
      experience_id: event.experienceId ?? null,
      event_created_at: new Date(event.created * 1000),
      processed_at: now,
      last_error: null,
    })
    .onConflict((conflict) =>
      conflict
        .column("event_id")
        .doUpdateSet({
          status: "completed",
          attempts: sql`webhook_events.attempts + 1`,
          processed_at: now,
          last_error: null,
        })
        .where("webhook_events.status", "not in", ["completed", "ignored"]),
    )
    // xmax is 0 on a freshly inserted row, not on one the conflict branch updated.
    .returning(sql<boolean>`xmax = 0`.as("inserted"))
    .executeTakeFirst();
  if (claimed === undefined) return "applied";
  return claimed.inserted ? "first" : "again";
}
