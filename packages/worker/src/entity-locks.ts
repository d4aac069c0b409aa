import type { Database } from "@fanfare-relay/db/schema";
import type { TypedEvent } from "@fanfare-relay/events/catalogue";
import type { Family } from "@fanfare-relay/events/families";
import { sql, type Transaction } from "kysely";

/**
 * First keys of the advisory locks (`pg_advisory_xact_lock(int, int)`), one per kind of entity;
 * the second is `hashtext(id)`. A hash collision only makes two entities share a lock.
 */
export const LOCK_SPACES = {
  consumer: 0x636f6e73, // "cons"
  auction: 0x61756374, // "auct"
  experience: 0x65787072, // "expr"
} as const;

export type LockSpace = keyof typeof LOCK_SPACES;

export interface EntityLock {
  space: LockSpace;
  id: string;
}

/** Fields naming a consumer, at the top of an event's data or in its lists (draw winners). */
const CONSUMER_FIELDS = ["consumerId", "winnerId"];

/**
 * Entities whose rows a family's handlers update from events of several types and ids, other
 * than consumers: one auction takes every bidder's bids, one experience its lifecycle. Not the
 * queue's experience: every admission of a drop names it, and no queue row is keyed by it alone.
 */
const FAMILY_ENTITIES: Partial<Record<Family, { space: LockSpace; field: string }>> = {
  auction: { space: "auction", field: "auctionId" },
  experience: { space: "experience", field: "experienceId" },
};

/**
 * The entities a batch locks before it touches a row: every consumer an event names (their lock
 * also orders mail against the consumer family: consumer-email.ts) and its family's entity.
 * A handler that locks one of them later finds it held, so no batch waits for a lock while
 * holding another taken out of the global order.
 */
export function entitiesOf(family: Family, event: TypedEvent): EntityLock[] {
  const locks: EntityLock[] = [];
  const data = event.data as Record<string, unknown>;
  const collect = (record: Record<string, unknown>) => {
    for (const field of CONSUMER_FIELDS) {
      const value = record[field];
      if (typeof value === "string") locks.push({ space: "consumer", id: value });
    }
  };
  collect(data);
  for (const value of Object.values(data)) {
    if (!Array.isArray(value)) continue;
    for (const item of value as unknown[]) {
      if (typeof item === "object" && item !== null) collect(item as Record<string, unknown>);
    }
  }
  const entity = FAMILY_ENTITIES[family];
  const id = entity === undefined ? undefined : data[entity.field];
  if (entity !== undefined && typeof id === "string") locks.push({ space: entity.space, id });
  return locks;
}

/**
 * Takes these transaction-scoped advisory locks (released at commit or rollback; taking one again
 * in the same transaction is free) in one statement, in one global order — by space, then by the
 * key actually locked, `hashtext(id)`, so ids whose hashes collide cannot invert it — so two
 * transactions locking overlapping sets cannot deadlock on them.
 */
export async function lockEntities(
  tx: Transaction<Database>,
  locks: readonly EntityLock[],
): Promise<void> {
  if (locks.length === 0) return;
  const spaces = locks.map((lock) => LOCK_SPACES[lock.space]);
  const ids = locks.map((lock) => lock.id);
  // The outer scan reads the sorted subquery in order, so the locks are taken in that order.
  await sql`SELECT count(pg_advisory_xact_lock(lock.space, lock.key)) FROM (
      SELECT DISTINCT entity.space, hashtext(entity.id) AS key
      FROM unnest(${spaces}::int[], ${ids}::text[]) AS entity(space, id)
      ORDER BY 1, 2
    ) AS lock`.execute(tx);
}
