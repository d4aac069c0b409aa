import { sql, type Kysely } from "kysely";

/**
 * An operator may fix a failed job's payload in the dashboard before retrying it. Every such edit
 * is kept (who, when, which fields changed from what to what), and the event's row says that the
 * data it was applied with is not what the sender signed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE job_data_edits (
      id          bigserial PRIMARY KEY,
      event_id    text NOT NULL,
      queue_name  text NOT NULL,
      job_id      text NOT NULL,
      edited_by   text NOT NULL,
      edited_at   timestamptz NOT NULL DEFAULT now(),
      -- [{"path": "data.consumerId", "before": …, "after": …}], a missing side meaning absent.
      changes     jsonb NOT NULL
    );
    CREATE INDEX job_data_edits_event_idx ON job_data_edits (event_id, edited_at);

    ALTER TABLE webhook_events ADD COLUMN edited_at timestamptz, ADD COLUMN edited_by text;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE webhook_events DROP COLUMN edited_at, DROP COLUMN edited_by;
    DROP TABLE job_data_edits;
  `.execute(db);
}
