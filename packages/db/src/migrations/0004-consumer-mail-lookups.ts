import { sql, type Kysely } from "kysely";

/**
 * When a consumer's email becomes known, the consumer worker looks up what mail that consumer is
 * still owed (apps/worker-consumer/src/owed-emails.ts): their active admissions, their prizes
 * pending a claim and the auctions they won. The primary keys lead with the experience, draw or
 * auction, so without these each lookup would scan its table. Partial: only the rows that can
 * still be owed a mail are indexed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX IF NOT EXISTS admissions_active_consumer_idx
      ON admissions (consumer_id) WHERE status = 'active';
    CREATE INDEX IF NOT EXISTS draw_winners_pending_consumer_idx
      ON draw_winners (consumer_id) WHERE status = 'pending_claim';
    CREATE INDEX IF NOT EXISTS auctions_winner_idx
      ON auctions (winner_id) WHERE winner_id IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX IF EXISTS auctions_winner_idx;
    DROP INDEX IF EXISTS draw_winners_pending_consumer_idx;
    DROP INDEX IF EXISTS admissions_active_consumer_idx;
  `.execute(db);
}
