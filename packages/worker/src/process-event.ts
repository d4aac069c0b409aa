import type { Database } from "@fanfare-relay/db/schema";
import {
  eventCatalogue,
  isEventType,
  parseEventData,
  type EventType,
  type TypedEvent,
} from "@fanfare-relay/events/catalogue";
import { parseEnvelope, type Envelope } from "@fanfare-relay/events/envelope";
import type { Family } from "@fanfare-relay/events/families";
import type { SchemaIssue } from "@fanfare-relay/events/issues";
import type { Kysely } from "kysely";
import { claimEvent } from "./webhook-events.ts";
import { resolveDeadLetter } from "./dead-letters.ts";
import { cancelEmail, cancelEmailsStartingWith, queueEmail } from "./email-outbox.ts";
import type { EventHandler, HandlerContext, HandlerMap } from "./handler.ts";
import { PermanentEventError } from "./permanent-error.ts";
import { eventTime } from "./storable.ts";

export interface ProcessEventOptions<F extends Family> {
  db: Kysely<Database>;
  family: F;
  handlers: HandlerMap<F>;
  messageIdDomain: string;
  shopUrl: string;
  /** Called for each email the handler queues (so the caller knows whether to send any). */
  onEmailQueued?: () => void;
}

export type ProcessOutcome = "applied" | "duplicate";

function describe(issues: SchemaIssue[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => `${issue.path}: ${issue.message}`)
    .join("; ");
}

/** Checks the job's payload; anything wrong here is permanent, retrying cannot change it. */
export function parseFamilyEvent(family: Family, payload: unknown): TypedEvent {
  const envelope = parseEnvelope(payload);
  if (!envelope.success) {
    throw new PermanentEventError("WORKER_INVALID_ENVELOPE", describe(envelope.issues));
  }
  // The envelope only says "a non-negative integer"; a time past JavaScript's Date range
  // (`created: 10000000000000`) could never be stored, on any attempt.
  if (eventTime(envelope.envelope.created) === null) {
    throw new PermanentEventError(
      "WORKER_INVALID_ENVELOPE",
      "created: not a representable time (unix seconds)",
    );
  }
  const { type } = envelope.envelope;
  if (!isEventType(type) || eventCatalogue[type].family !== family) {
    throw new PermanentEventError("WORKER_WRONG_QUEUE", `${type} is not a ${family} event`);
  }
  const parsed = parseEventData(envelope.envelope as Envelope & { type: EventType });
  if (!parsed.success) {
    throw new PermanentEventError("WORKER_INVALID_PAYLOAD", describe(parsed.issues));
  }
  return parsed.event;
}

/**
 * Applies one event exactly once: its claim in `webhook_events`, the handler's rows and any
 * outbox emails commit together or not at all. A retry that applies it resolves the dead letter
 * an earlier failure left; a duplicate changes nothing (its letter, if any, is settled by the
 * caller once the event's mail is sent).
 */
export async function processEvent<F extends Family>(
  options: ProcessEventOptions<F>,
  event: TypedEvent,
): Promise<ProcessOutcome> {
  const { db, family, handlers, messageIdDomain, shopUrl } = options;
  // The map is keyed by this family's types and parseFamilyEvent checked the family.
  const handler = (handlers as unknown as Record<string, EventHandler<EventType>>)[event.type];
  if (handler === undefined) {
    throw new PermanentEventError("WORKER_WRONG_QUEUE", `no ${family} handler for ${event.type}`);
  }
  return db.transaction().execute(async (tx) => {
    const claim = await claimEvent(tx, event, family);
    // Every dead letter comes with a `webhook_events` row (written with it, in one transaction),
    // so an event claimed for the first time has none to resolve: the hot path skips that
    // statement. An event already applied keeps its letter until its pending mail is sent (the
    // worker settles it then: settleAppliedEvent).
    if (claim === "again") await resolveDeadLetter(tx, event.id);
    if (claim === "applied") return "duplicate";
    const context: HandlerContext<EventType> = {
      tx,
      event,
      occurredAt: new Date(event.created * 1000),
      links: { shopUrl },
      queueEmail: async (draft) => {
        await queueEmail(tx, draft, event.id, messageIdDomain);
        options.onEmailQueued?.();
      },
      cancelEmail: (key) => cancelEmail(tx, key),
      cancelEmailsStartingWith: (prefix) => cancelEmailsStartingWith(tx, prefix),
      recordAnalytics: async (name, properties) => {
        await tx
          .insertInto("analytics_events")
          .values({
            name,
            event_id: event.id,
            properties: JSON.stringify(properties),
            occurred_at: new Date(event.created * 1000),
          })
          .onConflict((conflict) => conflict.columns(["name", "event_id"]).doNothing())
          .execute();
      },
    };
    await handler(context);
    return "applied";
  });
}
