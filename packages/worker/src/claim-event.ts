import type { Database } from "@fanfare-relay/db/schema";
import type { TypedEvent } from "@fanfare-relay/events/catalogue";
import type { Family } from "@fanfare-relay/events/families";
import { sql, type Transaction } from "kysely";

/**
 * Marks the event completed inside the transaction that applies it. Returns false when it already
 * was: a second worker racing on the same event waits on the row lock, then sees `completed` and
 * applies nothing; if the first one rolled back, the second one claims it.
 */
export async function claimEvent(
  tx: Transaction<Database>,
  event: TypedEvent,
  family: Family,
): Promise<boolean> {
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
    .returning("event_id")
    .executeTakeFirst();
  return claimed !== undefined;
}
