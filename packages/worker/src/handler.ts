import type { Database } from "@fanfare-relay/db/schema";
import type { EventType, FamilyEventType, TypedEvent } from "@fanfare-relay/events/catalogue";
import type { Family } from "@fanfare-relay/events/families";
import type { Transaction } from "kysely";

/** An email to send once the event's transaction has committed. */
export interface EmailDraft {
  /**
   * Names the logical email, e.g. `admission-granted:<experience>:<consumer>`: one key is one email,
   * ever, however many events or deliveries ask for it.
   */
  key: string;
  to: string;
  template: string;
  subject: string;
  text: string;
  html: string;
}

export interface HandlerContext<T extends EventType> {
  /** Everything a handler writes goes through this transaction, with the event's claim. */
  tx: Transaction<Database>;
  event: TypedEvent<T>;
  /** When the event happened (the envelope's `created`). */
  occurredAt: Date;
  links: { shopUrl: string };
  queueEmail: (draft: EmailDraft) => Promise<void>;
  /** Withdraws an email not sent yet, because a later fact made it stale. */
  cancelEmail: (key: string) => Promise<void>;
  /** Withdraws every unsent email whose key starts with `prefix` (e.g. all outbid mails of an auction). */
  cancelEmailsStartingWith: (prefix: string) => Promise<void>;
  recordAnalytics: (name: string, properties: Record<string, unknown>) => Promise<void>;
}

export type EventHandler<T extends EventType> = (context: HandlerContext<T>) => Promise<void>;

/** An email a batch handler queues, with the event it is queued for. */
export interface QueuedEmail<T extends EventType> {
  event: TypedEvent<T>;
  draft: EmailDraft;
}

/** What a batch handler gets: every event of its type in the batch, claimed, in one transaction. */
export interface BatchHandlerContext<T extends EventType> {
  tx: Transaction<Database>;
  /** In event-time order (then id); never empty. */
  events: readonly TypedEvent<T>[];
  links: { shopUrl: string };
  /** Queues the emails in one statement; a key already queued stays as it is. */
  queueEmails: (emails: readonly QueuedEmail<T>[]) => Promise<void>;
  /** Withdraws the emails not sent yet under these keys, in one statement. */
  cancelEmails: (keys: readonly string[]) => Promise<void>;
  /** Written with the batch's other analytics rows, in one statement at its end. */
  recordAnalytics: (
    event: TypedEvent<T>,
    name: string,
    properties: Record<string, unknown>,
  ) => void;
}

/**
 * Applies all the events of one type in a batch set-based (multi-row statements). It must leave
 * the rows an {@link EventHandler} applying the same events one at a time, in order, would leave.
 */
export interface BatchHandler<T extends EventType> {
  applyBatch: (context: BatchHandlerContext<T>) => Promise<void>;
}

/**
 * A family's handlers: leaving one of its event types out is a type error. Within a batch, types
 * apply in the order the map lists them, each type's events in event-time order.
 */
export type HandlerMap<F extends Family> = {
  [T in FamilyEventType<F>]: EventHandler<T> | BatchHandler<T>;
};
