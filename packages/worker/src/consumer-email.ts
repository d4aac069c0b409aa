import type { Database } from "@fanfare-relay/db/schema";
import { sql, type Transaction } from "kysely";

/**
 * First key of the consumers' advisory locks (`pg_advisory_xact_lock(int, int)`): the second is
 * `hashtext(consumerId)`. A hash collision only makes two consumers wait for each other.
 */
const CONSUMER_LOCK_SPACE = 0x636f6e73; // "cons"

/**
 * Takes the consumer's transaction-scoped advisory lock (released at commit or rollback; taking
 * it again in the same transaction is free).
 *
 * Why: a mail needs two facts that arrive on different queues — the consumer's email (consumer
 * events) and what the mail is about (an admission, a win). Under READ COMMITTED two workers
 * applying one of each at the same time would each miss the other's uncommitted row, and neither
 * would queue the mail; a later fact that cancels a mail would likewise miss a mail queued
 * concurrently. Every transaction that reads the email to queue a mail, queues one from the
 * consumer side, or cancels one, takes this lock first, so the one that commits second sees the
 * other's rows. Lock several consumers with {@link lockConsumers}, never one by one in an
 * arbitrary order.
 */
export async function lockConsumer(tx: Transaction<Database>, consumerId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${sql.lit(CONSUMER_LOCK_SPACE)}, hashtext(${consumerId}))`.execute(
    tx,
  );
}

/** {@link lockConsumer} for several consumers, in one global order so two callers cannot deadlock. */
export async function lockConsumers(
  tx: Transaction<Database>,
  consumerIds: readonly string[],
): Promise<void> {
  const sorted = [...new Set(consumerIds)].sort();
  for (const consumerId of sorted) await lockConsumer(tx, consumerId);
}

/**
 * The consumer's email as far as consumer events have told us; undefined means "send nothing"
 * (the consumer worker queues the mail when the email arrives). Takes the consumer's lock first
 * ({@link lockConsumer}), so the email read is the one committed by any consumer event applied
 * concurrently.
 */
export async function findConsumerEmail(
  tx: Transaction<Database>,
  consumerId: string,
): Promise<string | undefined> {
  await lockConsumer(tx, consumerId);
  const row = await tx
    .selectFrom("consumers")
    .select("email")
    .where("id", "=", consumerId)
    .executeTakeFirst();
  return row?.email ?? undefined;
}
