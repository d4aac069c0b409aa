import type { Database } from "@fanfare-relay/db/schema";
import { inRounds } from "@fanfare-relay/worker/rounds";
import { sql, type RawBuilder, type Transaction } from "kysely";

export interface ConsumerFacts {
  /** Null when the event carries no email: that never erases one we know. */
  email: string | null;
  /** When the event's fact was true (authenticatedAt / linkedAt): dates the email it carries. */
  observedAt: string;
  authentication?: { method: string | null; at: string };
  link?: { externalCustomerId: string; at: string };
}

type Dated = "email" | "auth_method" | "external_customer_id";
type Timestamp = "email_observed_at" | "authenticated_at" | "linked_at";

/**
 * The value of the later fact, judged by the times stored next to it. Equal times keep the greater
 * value (NULL loses) rather than the last one to arrive, so no arrival order can change the row.
 */
function latest(column: Dated, time: Timestamp): RawBuilder<string | null> {
  const incoming = sql.ref(`excluded.${column}`);
  const stored = sql.ref(`consumers.${column}`);
  const incomingTime = sql.ref(`excluded.${time}`);
  const storedTime = sql.ref(`consumers.${time}`);
  return sql<string | null>`CASE
    WHEN ${incomingTime} IS NULL THEN ${stored}
    WHEN ${storedTime} IS NULL OR ${incomingTime} > ${storedTime} THEN ${incoming}
    WHEN ${incomingTime} = ${storedTime} THEN GREATEST(${incoming}, ${stored})
    ELSE ${stored} END`;
}

const greatest = (time: Timestamp) =>
  sql<Date | null>`GREATEST(${sql.ref(`excluded.${time}`)}, ${sql.ref(`consumers.${time}`)})`;

/** One consumer event's facts, for {@link mergeConsumers}. */
export interface ConsumerFactsItem {
  consumerId: string;
  facts: ConsumerFacts;
}

/**
 * Merges consumer events, one multi-row upsert per round ({@link inRounds} by consumer: a
 * consumer's second event in the list merges in the second round, after its first). Each column
 * follows the latest fact about it (not the latest event delivered), so late and reordered
 * deliveries leave the same row. A column the event does not know is inserted as NULL with a NULL
 * time, which the merge never prefers over a stored value. Returns, per item in the order given,
 * the email stored right after its merge (null while none is known): what one-at-a-time
 * application would have read after that event.
 */
export async function mergeConsumers(
  tx: Transaction<Database>,
  items: readonly ConsumerFactsItem[],
): Promise<(string | null)[]> {
  const emailAfter: (string | null)[] = items.map(() => null);
  const indexed = items.map((item, index) => ({ ...item, index }));
  for (const round of inRounds(indexed, (item) => item.consumerId)) {
    const rows = await tx
      .insertInto("consumers")
      .values(
        round.map(({ consumerId, facts }) => ({
          id: consumerId,
          email: facts.email,
          email_observed_at: facts.email === null ? null : facts.observedAt,
          auth_method: facts.authentication?.method ?? null,
          authenticated_at: facts.authentication?.at ?? null,
          external_customer_id: facts.link?.externalCustomerId ?? null,
          linked_at: facts.link?.at ?? null,
        })),
      )
      .onConflict((conflict) =>
        conflict.column("id").doUpdateSet({
          email: latest("email", "email_observed_at"),
          email_observed_at: greatest("email_observed_at"),
          auth_method: latest("auth_method", "authenticated_at"),
          authenticated_at: greatest("authenticated_at"),
          external_customer_id: latest("external_customer_id", "linked_at"),
          linked_at: greatest("linked_at"),
          updated_at: sql<Date>`now()`,
        }),
      )
      .returning(["id", "email"])
      .execute();
    // A round names each consumer once, so its rows map back to its items by id.
    const byId = new Map(rows.map((row) => [row.id, row.email]));
    for (const { consumerId, index } of round) emailAfter[index] = byId.get(consumerId) ?? null;
  }
  return emailAfter;
}
