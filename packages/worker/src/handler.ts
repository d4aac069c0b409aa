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

/** A family's handlers: leaving one of its event types out is a type error. */
export type HandlerMap<F extends Family> = {
  [T in FamilyEventType<F>]: EventHandler<T>;
};
