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
import type { Insertable, Kysely } from "kysely";
import { claimEvents } from "./webhook-events.ts";
import { resolveDeadLetters } from "./dead-letters.ts";
import { cancelEmails, cancelEmailsStartingWith, queueEmails } from "./email-outbox.ts";
import { entitiesOf, lockEntities } from "./entity-locks.ts";
import type { BatchHandler, EmailDraft, EventHandler, HandlerMap } from "./handler.ts";
import { PermanentEventError } from "./permanent-error.ts";
import { eventTime, storableKey } from "./storable.ts";

export interface ProcessEventOptions<F extends Family> {
  db: Kysely<Database>;
  family: F;
  handlers: HandlerMap<F>;
  messageIdDomain: string;
  shopUrl: string;
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

/** One event's part of a batch: whether it was applied now, and how many emails it queued. */
export interface AppliedEvent {
  outcome: ProcessOutcome;
  emailsQueued: number;
}

type AnalyticsRow = Insertable<Database["analytics_events"]>;
type AnyHandler = EventHandler<EventType> | BatchHandler<EventType>;

/** Events of one entity apply in the order they happened, whatever order the batch came in. */
const byTimeThenId = (a: TypedEvent, b: TypedEvent) =>
  a.created - b.created || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Applies a batch of events exactly once each, in one transaction: their claims in
 * `webhook_events` (one statement), the handlers' rows, the outbox emails and the analytics rows
 * (one statement) commit together or not at all. Types apply in the order the family's handler
 * map lists them, each type's events in event-time order (then id): a {@link BatchHandler} gets
 * them all at once, an {@link EventHandler} one at a time. Handlers of a family are
 * order-independent, so the rows end as they would one event at a time. The advisory locks of
 * every entity the events name (entity-locks.ts: their consumers, an auction, an experience) are
 * taken first, in one sorted statement, so concurrent batches (of this family or another) do not
 * deadlock on those entities' rows.
 *
 * Answers one result per event, in the order given; an id given twice is applied once (the later
 * ones are duplicates). A retry that applies an event resolves the dead letter an earlier failure
 * left; a duplicate changes nothing (its letter, if any, is settled by the caller once the event's
 * mail is sent). Throws whatever a handler or statement throws, having applied nothing: the caller
 * isolates the failing event by applying the batch's events one by one.
 */
export async function applyEvents<F extends Family>(
  options: ProcessEventOptions<F>,
  events: readonly TypedEvent[],
): Promise<AppliedEvent[]> {
  const { db, family, messageIdDomain, shopUrl } = options;
  // The map is keyed by this family's types and parseFamilyEvent checked the family.
  const handlers = options.handlers as unknown as Record<string, AnyHandler | undefined>;
  const results = new Map<TypedEvent, AppliedEvent>();
  const distinct = new Map<string, TypedEvent>();
  for (const event of events) {
    if (handlers[event.type] === undefined) {
      throw new PermanentEventError("WORKER_WRONG_QUEUE", `no ${family} handler for ${event.type}`);
    }
    const key = storableKey(event.id);
    if (distinct.has(key)) results.set(event, { outcome: "duplicate", emailsQueued: 0 });
    else distinct.set(key, event);
  }
  const batch = [...distinct.values()].sort(byTimeThenId);
  await db.transaction().execute(async (tx) => {
    await lockEntities(
      tx,
      batch.flatMap((event) => entitiesOf(family, event)),
    );
    const claims = await claimEvents(tx, batch, family);
    // Every dead letter comes with a `webhook_events` row (written with it, in one transaction),
    // so events claimed for the first time have none to resolve. An event already applied keeps
    // its letter until its pending mail is sent (the worker settles it then: settleAppliedEvent).
    await resolveDeadLetters(
      tx,
      batch.filter((_, index) => claims[index] === "again").map((event) => event.id),
    );
    const byType = new Map<string, TypedEvent[]>();
    for (const [index, event] of batch.entries()) {
      if (claims[index] === "applied") {
        results.set(event, { outcome: "duplicate", emailsQueued: 0 });
        continue;
      }
      results.set(event, { outcome: "applied", emailsQueued: 0 });
      const ofType = byType.get(event.type);
      if (ofType === undefined) byType.set(event.type, [event]);
      else ofType.push(event);
    }
    const analytics: AnalyticsRow[] = [];
    // Nothing reads them back while the batch applies: written once, at its end.
    const recordAnalytics = (
      event: TypedEvent,
      name: string,
      properties: Record<string, unknown>,
    ) => {
      analytics.push({
        name,
        event_id: event.id,
        properties: JSON.stringify(properties),
        occurred_at: new Date(event.created * 1000),
      });
    };
    const queueEmailsOf = async (emails: readonly { event: TypedEvent; draft: EmailDraft }[]) => {
      await queueEmails(
        tx,
        emails.map(({ event, draft }) => ({ draft, eventId: event.id })),
        messageIdDomain,
      );
      for (const { event } of emails) {
        const applied = results.get(event);
        if (applied !== undefined) applied.emailsQueued += 1;
      }
    };
    for (const [type, handler] of Object.entries(handlers)) {
      const ofType = byType.get(type);
      if (ofType === undefined || handler === undefined) continue;
      if ("applyBatch" in handler) {
        await handler.applyBatch({
          tx,
          events: ofType,
          links: { shopUrl },
          queueEmails: queueEmailsOf,
          cancelEmails: (keys) => cancelEmails(tx, keys),
          recordAnalytics,
        });
        continue;
      }
      for (const event of ofType) {
        await handler({
          tx,
          event,
          occurredAt: new Date(event.created * 1000),
          links: { shopUrl },
          queueEmail: (draft) => queueEmailsOf([{ event, draft }]),
          cancelEmail: (key) => cancelEmails(tx, [key]),
          cancelEmailsStartingWith: (prefix) => cancelEmailsStartingWith(tx, prefix),
          recordAnalytics: (name, properties) => {
            recordAnalytics(event, name, properties);
            return Promise.resolve();
          },
        });
      }
    }
    if (analytics.length > 0) {
      await tx
        .insertInto("analytics_events")
        .values(analytics)
        .onConflict((conflict) => conflict.columns(["name", "event_id"]).doNothing())
        .execute();
    }
  });
  return events.map((event) => results.get(event) ?? { outcome: "duplicate", emailsQueued: 0 });
}

/** Applies one event exactly once (see applyEvents). */
export async function processEvent<F extends Family>(
  options: ProcessEventOptions<F>,
  event: TypedEvent,
): Promise<ProcessOutcome> {
  const [applied] = await applyEvents(options, [event]);
  return applied?.outcome ?? "duplicate";
}
