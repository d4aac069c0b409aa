import type { Database } from "@fanfare-relay/db/schema";
import { sql, type Kysely } from "kysely";

export const TRIGGER_MESSAGE = "queue_participants is read-only during maintenance";

/**
 * Makes every write to queue_participants fail, as an outage of that table would: the worker's
 * handler for queue.consumer_entered then fails on every attempt until the cause is removed.
 */
export async function breakQueueParticipants(db: Kysely<Database>) {
  await sql`CREATE OR REPLACE FUNCTION refuse_queue_participants() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${sql.raw(TRIGGER_MESSAGE)}'; END $$`.execute(db);
  await sql`CREATE TRIGGER refuse_queue_participants BEFORE INSERT OR UPDATE ON queue_participants
    FOR EACH ROW EXECUTE FUNCTION refuse_queue_participants()`.execute(db);
}

export async function fixQueueParticipants(db: Kysely<Database>) {
  await sql`DROP TRIGGER IF EXISTS refuse_queue_participants ON queue_participants`.execute(db);
}

export async function participant(db: Kysely<Database>, consumerId: string) {
  return db
    .selectFrom("queue_participants")
    .selectAll()
    .where("consumer_id", "=", consumerId)
    .executeTakeFirst();
}
