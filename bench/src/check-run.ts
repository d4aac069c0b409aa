import type { Database } from "@fanfare-relay/db/schema";
import type { Queue } from "bullmq";
import { sql, type Kysely, type RawBuilder } from "kysely";

export interface RunToCheck {
  db: Kysely<Database>;
  queue: Queue;
  total: number;
  /** The admissions the real handlers must have written; undefined for the no-op baseline. */
  admitted: number | undefined;
  mailsReceived: number;
}

async function countRows(
  db: Kysely<Database>,
  table: keyof Database,
  where: RawBuilder<boolean> = sql<boolean>`true`,
): Promise<number> {
  const result = await sql<{ count: number }>`
    SELECT count(*)::int AS count FROM ${sql.table(table)} WHERE ${where}`.execute(db);
  return result.rows[0]?.count ?? 0;
}

/** Every event applied once, nothing failed, every mail marked sent arrived: empty when so. */
export async function checkRun({
  db,
  queue,
  total,
  admitted,
  mailsReceived,
}: RunToCheck): Promise<string[]> {
  const problems: string[] = [];
  const jobs = await queue.getJobCounts("completed", "failed");
  if (jobs.completed !== total) problems.push(`${String(jobs.completed)} jobs completed`);
  if ((jobs.failed ?? 0) > 0) problems.push(`${String(jobs.failed)} jobs failed`);
  const applied = await countRows(db, "webhook_events", sql<boolean>`status = 'completed'`);
  if (applied !== total) problems.push(`${String(applied)} events completed`);
  const deadLetters = await countRows(db, "webhook_dead_letters");
  if (deadLetters > 0) problems.push(`${String(deadLetters)} dead letters`);
  const sent = await countRows(db, "email_outbox", sql<boolean>`status = 'sent'`);
  if (sent !== mailsReceived) {
    problems.push(`${String(sent)} mails marked sent, ${String(mailsReceived)} received`);
  }
  if (admitted !== undefined) {
    const admissions = await countRows(db, "admissions");
    if (admissions !== admitted) problems.push(`${String(admissions)} admissions`);
    if (sent === 0) problems.push("no mail sent");
  }
  return problems;
}
