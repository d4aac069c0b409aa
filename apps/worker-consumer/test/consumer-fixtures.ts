import type { Database } from "@fanfare-relay/db/schema";
import type { Envelope } from "@fanfare-relay/events/envelope";
import { sampleEvent } from "@fanfare-relay/worker/testing/harness";
import type { Kysely } from "kysely";

/** Fact times: in the past, like real sign-ins the sender reports. */
export const at = (second: number) => new Date(Date.UTC(2025, 10, 26, 9, 40, second)).toISOString();

/** `email: undefined` leaves the field out of the payload, as a sender without one would. */
function withEmail(data: Record<string, unknown>, email: string | null | undefined) {
  return email === undefined ? data : { ...data, email };
}

function withoutFixtureEmail(event: Envelope): Envelope {
  const { email: _email, ...data } = event.data;
  return { ...event, data };
}

export function authenticated(
  consumerId: string,
  facts: { at: string; email?: string | null; method?: string },
): Envelope {
  const event = withoutFixtureEmail(sampleEvent("consumer.authenticated"));
  const { method: _method, ...data } = event.data;
  return {
    ...event,
    data: withEmail(
      {
        ...data,
        consumerId,
        authenticatedAt: facts.at,
        ...(facts.method === undefined ? {} : { method: facts.method }),
      },
      facts.email,
    ),
  };
}

export function linked(
  consumerId: string,
  facts: { at: string; externalCustomerId: string; email?: string | null },
): Envelope {
  const event = withoutFixtureEmail(sampleEvent("consumer.linked"));
  return {
    ...event,
    data: withEmail(
      {
        ...event.data,
        consumerId,
        externalCustomerId: facts.externalCustomerId,
        linkedAt: facts.at,
      },
      facts.email,
    ),
  };
}

/** The consumer's row without its id and write time, comparable across consumers. */
export async function consumerFacts(db: Kysely<Database>, consumerId: string) {
  const {
    id: _id,
    updated_at: _updatedAt,
    ...facts
  } = await db
    .selectFrom("consumers")
    .selectAll()
    .where("id", "=", consumerId)
    .executeTakeFirstOrThrow();
  return facts;
}

export async function analyticsOf(db: Kysely<Database>, eventId: string) {
  return db
    .selectFrom("analytics_events")
    .select(["name", "properties"])
    .where("event_id", "=", eventId)
    .execute();
}

export async function outboxCount(db: Kysely<Database>): Promise<number> {
  const { count } = await db
    .selectFrom("email_outbox")
    .select((eb) => eb.fn.countAll<string>().as("count"))
    .executeTakeFirstOrThrow();
  return Number(count);
}
