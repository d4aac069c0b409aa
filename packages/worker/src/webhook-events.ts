import type { Database, WebhookEventStatus } from "@fanfare-relay/db/schema";
import type { TypedEvent } from "@fanfare-relay/events/catalogue";
import type { Family } from "@fanfare-relay/events/families";
import { sql, type Kysely, type Transaction } from "kysely";
import { eventTime, isDataError, storableKey, withoutNul } from "./storable.ts";

/**
 * `first`: never seen before (the usual case). `again`: seen and not applied (an earlier attempt
 * failed, so there may be a dead letter to resolve). `applied`: already applied, nothing to do.
 */
export type Claim = "first" | "again" | "applied";

/**
 * What the bookkeeping knows of an event. Only `id` and `type` are required: a job whose payload
 * is not a valid envelope still gets a row, from its job id and name. The other fields are taken
 * when they are storable and ignored when not.
 */
export interface EventHead {
  id: string;
  type: string;
  created?: unknown;
  organizationId?: unknown;
  experienceId?: unknown;
}

type Attempt = { status: "completed" } | { status: "failed"; error: string };

const optionalKey = (value: unknown) => (typeof value === "string" ? storableKey(value) : null);

/** The row's identifying columns; `minimal` leaves out everything but id, type and family. */
function headColumns(event: EventHead, family: string, minimal: boolean) {
  return {
    event_id: storableKey(event.id),
    type: storableKey(event.type),
    family,
    organization_id: minimal ? null : optionalKey(event.organizationId),
    experience_id: minimal ? null : optionalKey(event.experienceId),
    event_created_at: minimal ? null : eventTime(event.created),
  };
}

/**
 * One attempt at each of `events` (distinct ids), in `webhook_events`, in one statement: inserted
 * on the first, counted on the next ones. Never moved away from `completed` (or `ignored`), and
 * never claimed again once applied (`processed_at` set): an applied event whose mail then failed
 * for good is `dead`, yet its effects are committed and must not be applied twice. A failed
 * attempt keeps a `dead` event `dead`: its dead letter is open until an attempt succeeds.
 * Answers one claim per event, in order.
 */
async function recordAttempts(
  db: Kysely<Database>,
  events: readonly EventHead[],
  family: string,
  attempt: Attempt,
  minimal = false,
): Promise<Claim[]> {
  const outcome =
    attempt.status === "completed"
      ? { status: "completed" as const, processed_at: new Date(), last_error: null }
      : { status: "failed" as const, last_error: withoutNul(attempt.error) };
  const update =
    attempt.status === "completed"
      ? outcome
      : {
          ...outcome,
          status: sql<WebhookEventStatus>`CASE WHEN webhook_events.status = 'dead' THEN 'dead' ELSE 'failed' END`,
        };
  const rows = await db
    .insertInto("webhook_events")
    .values(
      events.map((event) => ({ ...headColumns(event, family, minimal), attempts: 1, ...outcome })),
    )
    .onConflict((conflict) =>
      conflict
        .column("event_id")
        .doUpdateSet({ ...update, attempts: sql`webhook_events.attempts + 1` })
        .where("webhook_events.status", "not in", ["completed", "ignored"])
        .where("webhook_events.processed_at", "is", null),
    )
    // xmax is 0 on a freshly inserted row, not on one the conflict branch updated.
    .returning(["event_id", sql<boolean>`xmax = 0`.as("inserted")])
    .execute();
  const claimed = new Map(rows.map((row) => [row.event_id, row.inserted]));
  return events.map((event) => {
    const inserted = claimed.get(storableKey(event.id));
    if (inserted === undefined) return "applied";
    return inserted ? "first" : "again";
  });
}

/**
 * Marks the events completed inside the transaction that applies them, one statement for the
 * batch (ids must be distinct). A second worker racing on one of them waits on the row lock, then
 * sees `completed` and applies nothing; if the first one rolled back, the second one claims it.
 * Answers one claim per event, in order.
 */
export function claimEvents(
  tx: Transaction<Database>,
  events: readonly TypedEvent[],
  family: Family,
): Promise<Claim[]> {
  return recordAttempts(tx, events, family, { status: "completed" });
}

/**
 * Records a failed attempt outside the rolled-back transaction, for operators' queries. Values
 * PostgreSQL refuses (a `created` past any representable time, NUL in a field …) never cost the
 * row: on such an error it is written with id, type and family only.
 */
export async function recordFailedAttempt(
  db: Kysely<Database>,
  event: EventHead,
  family: string,
  error: string,
): Promise<void> {
  const attempt = { status: "failed" as const, error };
  try {
    await recordAttempts(db, [event], family, attempt);
  } catch (refused) {
    if (!isDataError(refused)) throw refused;
    await recordAttempts(db, [event], family, attempt, true);
  }
}

export interface DeadEvent {
  head: EventHead;
  family: string;
  error: string;
  /** Attempts made, for a row this inserts (the failed attempts could not be recorded). */
  attempts: number;
  minimal?: boolean;
}

/**
 * Marks the event `dead` in the transaction that writes its dead letter, inserting a row if none
 * was ever written (the database was down while the event failed). `dead` means "its dead letter
 * is open": an applied event (`processed_at` set) whose mail failed for good is `dead` too.
 */
export async function markEventDead(
  tx: Transaction<Database>,
  { head, family, error, attempts, minimal = false }: DeadEvent,
): Promise<void> {
  await tx
    .insertInto("webhook_events")
    .values({
      ...headColumns(head, family, minimal),
      status: "dead",
      attempts,
      last_error: withoutNul(error),
    })
    .onConflict((conflict) =>
      conflict
        .column("event_id")
        .doUpdateSet({ status: "dead", last_error: withoutNul(error) })
        .where("webhook_events.status", "!=", "ignored"),
    )
    .execute();
}

/**
 * For an event found already applied whose pending mail has now all been sent: its dead letter
 * (if any) is resolved and a `dead` status goes back to `completed`. One statement; a no-op for
 * the usual duplicate.
 */
export async function settleAppliedEvent(db: Kysely<Database>, eventId: string): Promise<void> {
  const id = storableKey(eventId);
  await sql`
    WITH resolved AS (
      UPDATE webhook_dead_letters SET resolved_at = now()
      WHERE event_id = ${id} AND resolved_at IS NULL
    )
    UPDATE webhook_events SET status = 'completed', last_error = NULL
    WHERE event_id = ${id} AND status = 'dead' AND processed_at IS NOT NULL`.execute(db);
}

/**
 * True when the event is `completed` with no mail of its own still pending: nothing about it is
 * left for a dead letter to track (a failed job of it is stale: a retry, a redelivery or a job
 * under another id applied it since).
 */
export async function isEventSettled(db: Kysely<Database>, eventId: string): Promise<boolean> {
  const row = await db
    .selectFrom("webhook_events")
    .select("event_id")
    .where("event_id", "=", storableKey(eventId))
    .where("status", "=", "completed")
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("email_outbox")
            .select("email_outbox.id")
            .whereRef("email_outbox.event_id", "=", "webhook_events.event_id")
            .where("email_outbox.status", "=", "pending"),
        ),
      ),
    )
    .executeTakeFirst();
  return row !== undefined;
}
