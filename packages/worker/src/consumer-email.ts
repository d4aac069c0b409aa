import type { Database } from "@fanfare-relay/db/schema";
import { sql, type Transaction } from "kysely";
import { LOCK_SPACES, lockEntities } from "./entity-locks.ts";

const CONSUMER_LOCK_SPACE = LOCK_SPACES.consumer;

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

/**
 * {@link lockConsumer} for several consumers in one statement, in one global order (lockEntities)
 * so two callers cannot deadlock on them.
 */
export async function lockConsumers(
  tx: Transaction<Database>,
  consumerIds: readonly string[],
): Promise<void> {
  await lockEntities(
    tx,
    consumerIds.map((id) => ({ space: "consumer", id })),
  );
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
  return (await findConsumerEmails(tx, [consumerId])).get(consumerId);
}

/**
 * {@link findConsumerEmail} for several consumers: their locks in one statement, then one
 * lookup. Consumers with no known email are absent from the map.
 */
export async function findConsumerEmails(
  tx: Transaction<Database>,
  consumerIds: readonly string[],
): Promise<Map<string, string>> {
  if (consumerIds.length === 0) return new Map();
  await lockConsumers(tx, consumerIds);
  return readConsumerEmails(tx, consumerIds);
}

/**
 * {@link findConsumerEmails} without taking the locks, for a batch handler: applyEvents has
 * already locked every consumer its events name (entity-locks.ts), so taking them again would be
 * one more statement per batch for nothing. Only for consumers named by the batch's events.
 */
export async function readConsumerEmails(
  tx: Transaction<Database>,
  consumerIds: readonly string[],
): Promise<Map<string, string>> {
  if (consumerIds.length === 0) return new Map();
  const rows = await tx
    .selectFrom("consumers")
    .select(["id", "email"])
    .where("id", "in", [...new Set(consumerIds)])
    .where("email", "is not", null)
    .execute();
  return new Map(rows.flatMap((row) => (row.email === null ? [] : [[row.id, row.email]])));
}
