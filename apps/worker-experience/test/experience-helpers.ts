import type { Database } from "@fanfare-relay/db/schema";
import type { EventType } from "@fanfare-relay/events/catalogue";
import type { Envelope } from "@fanfare-relay/events/envelope";
import { sampleEvent } from "@fanfare-relay/worker/testing/harness";
import type { Kysely } from "kysely";

/** An experience event for `experienceId`, in the envelope too, like Fanfare sends it. */
export function experienceEvent(
  type: EventType & `experience.${string}`,
  experienceId: string,
  data: Record<string, unknown> = {},
): Envelope {
  return sampleEvent(type, { experienceId, ...data }, { experienceId });
}

export async function readExperience(db: Kysely<Database>, experienceId: string) {
  return db
    .selectFrom("experiences")
    .selectAll()
    .where("id", "=", experienceId)
    .executeTakeFirstOrThrow();
}

/** The row without what necessarily differs between experiences: its id and write time. */
export async function experienceFacts(db: Kysely<Database>, experienceId: string) {
  const { id, updated_at, ...facts } = await readExperience(db, experienceId);
  return facts;
}

export async function analyticsOf(db: Kysely<Database>, eventId: string) {
  return db.selectFrom("analytics_events").selectAll().where("event_id", "=", eventId).execute();
}
