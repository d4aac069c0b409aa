import type { EventType, TypedEvent } from "@fanfare-relay/events/catalogue";
import type { BatchHandlerContext, QueuedEmail } from "@fanfare-relay/worker/handler";
import { readConsumerEmails } from "@fanfare-relay/worker/consumer-email";
import { mergeConsumers, type ConsumerFacts } from "./consumers.ts";
import { owedEmails } from "./owed-emails.ts";

/** One consumer event of a batch and the facts it reports. */
export interface ConsumerFactsOf<T extends EventType> {
  event: TypedEvent<T>;
  consumerId: string;
  facts: ConsumerFacts;
}

/**
 * Merges a batch's consumer events (in the order given: the batch's event-time order) and, for
 * each event that makes a consumer's email known or changes it, queues the mails other families
 * could not send without it ({@link owedEmails}). The outbox rows carry that event's id, so the
 * worker sends them after the commit like any mail of its own. Five statements whatever the
 * batch's size (usually): the emails before, the upsert, the three owed-mail lookups, the outbox.
 *
 * Equivalent to one event at a time: the email each event leaves is the one its merge returned;
 * only the first event that changes a consumer's email queues their owed mails, because a later
 * one in the same transaction would find the same rows owed (a subset, its clock being later),
 * under the same keys, already queued — and a queued key keeps its first address.
 *
 * The consumers' locks are held from the start of the batch (lockEntities: every consumer an
 * event names), and readConsumerEmails takes them again for free before the email is read: the
 * handler of an admission, a win or an auction end applied at the same moment takes them too, so
 * whichever commits second sees the other's rows and the mail is queued exactly once.
 */
export async function applyConsumerFacts<T extends EventType>(
  context: Pick<BatchHandlerContext<T>, "tx" | "links" | "queueEmails">,
  items: readonly ConsumerFactsOf<T>[],
): Promise<void> {
  const { tx } = context;
  // Consumer id → their email so far (absent while none is known), as the walk below advances.
  const current = await readConsumerEmails(
    tx,
    items.map((item) => item.consumerId),
  );
  const after = await mergeConsumers(tx, items);
  // Consumer id → the first event that changed their email, and the email it left.
  const firstChange = new Map<string, { event: TypedEvent<T>; to: string }>();
  for (const [index, { event, consumerId }] of items.entries()) {
    const email = after[index] ?? null;
    if (email === null || email === current.get(consumerId)) continue;
    current.set(consumerId, email);
    if (!firstChange.has(consumerId)) firstChange.set(consumerId, { event, to: email });
  }
  if (firstChange.size === 0) return;
  const owed = await owedEmails(tx, {
    recipients: new Map([...firstChange].map(([consumerId, { to }]) => [consumerId, to])),
    shopUrl: context.links.shopUrl,
    now: new Date(),
  });
  const emails: QueuedEmail<T>[] = [];
  for (const [consumerId, { event }] of firstChange) {
    for (const draft of owed.get(consumerId) ?? []) emails.push({ event, draft });
  }
  await context.queueEmails(emails);
}
