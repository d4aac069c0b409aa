import type { Database } from "@fanfare-relay/db/schema";
import type { TypedEvent } from "@fanfare-relay/events/catalogue";
import type { Family } from "@fanfare-relay/events/families";
import { sql, type Kysely, type Transaction } from "kysely";

/**
 * `first`: never seen before (the usual case). `again`: seen and not applied (an earlier attempt
 * failed, so there may be a dead letter to resolve). `applied`: already applied, nothing to do.
 */
export type Claim = "first" | "again" | "applied";

export interface EventHead {
  id: string;
  type: string;
  created: number;
  organizationId: string;
  experienceId?: string | undefined;
}

type Attempt = { status: "completed" } | { status: "failed"; error: string };

/**
 * One attempt at an event, in `webhook_events`: inserted on the first, counted on the next ones,
 * and never moved away from `completed` (or `ignored`) once there.
 */
async function recordAttempt(
  db: Kysely<Database>,
  event: EventHead,
  family: string,
  attempt: Attempt,
): Promise<Claim> {
  const outcome =
    attempt.status === "completed"
      ? { status: "completed" as const, processed_at: new Date(), last_error: null }
      : { status: "failed" as const, last_error: attempt.error };
  const row = await db
    .insertInto("webhook_events")
    .values({
      event_id: event.id,
      type: event.type,
      family,
      attempts: 1,
      organization_id: event.organizationId,
      experience_id: event.experienceId ?? null,
      event_created_at: new Date(event.created * 1000),
      ...outcome,
    })
    .onConflict((conflict) =>
      conflict
        .column("event_id")
        .doUpdateSet({ ...outcome, attempts: sql`webhook_events.attempts + 1` })
        .where("webhook_events.status", "not in", ["completed", "ignored"]),
    )
    // xmax is 0 on a freshly inserted row, not on one the conflict branch updated.
    .returning(sql<boolean>`xmax = 0`.as("inserted"))
    .executeTakeFirst();
  if (row === undefined) return "applied";
  return row.inserted ? "first" : "again";
}

/**
 * Marks the event completed inside the transaction that applies it. A second worker racing on the
 * same event waits on the row lock, then sees `completed` and applies nothing; if the first one
 * rolled back, the second one claims it.
 */
export function claimEvent(
  tx: Transaction<Database>,
  event: TypedEvent,
  family: Family,
): Promise<Claim> {
  return recordAttempt(tx, event, family, { status: "completed" });
}

/** Records a failed attempt outside the rolled-back transaction, for operators' queries. */
export async function recordFailedAttempt(
  db: Kysely<Database>,
  event: EventHead,
  family: string,
  error: string,
): Promise<void> {
  await recordAttempt(db, event, family, { status: "failed", error });
}
