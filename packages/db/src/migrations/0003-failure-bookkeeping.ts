import { sql, type Kysely } from "kysely";

/**
 * Failure bookkeeping must never depend on the payload being storable: an event whose `created`
 * is no representable time still gets its `webhook_events` row, with no event time. Dead letters
 * are looked up by job (a hash of the job id) when the worker reconciles BullMQ's failed set
 * with them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE webhook_events ALTER COLUMN event_created_at DROP NOT NULL;
    -- md5: a job id may be longer than an index entry can hold (2,704 bytes).
    CREATE INDEX IF NOT EXISTS webhook_dead_letters_job_idx
      ON webhook_dead_letters (queue_name, md5(job_id));
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX IF EXISTS webhook_dead_letters_job_idx;
    ALTER TABLE webhook_events ALTER COLUMN event_created_at SET NOT NULL;
  `.execute(db);
}
