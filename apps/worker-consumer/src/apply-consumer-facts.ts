import type { HandlerContext } from "@fanfare-relay/worker/handler";
import { findConsumerEmail } from "@fanfare-relay/worker/consumer-email";
import { mergeConsumer, type ConsumerFacts } from "./consumers.ts";
import { owedEmails } from "./owed-emails.ts";

/**
 * Merges a consumer event's facts and, when that makes an email known or changes it, queues the
 * mails other families could not send without it ({@link owedEmails}). The outbox rows carry this
 * event's id, so the worker sends them after the commit like any mail of its own; a mail another
 * event already queued (same key) stays one row.
 *
 * The consumer's lock is taken before the email is read (inside findConsumerEmail): the handler
 * of an admission, a win or an auction end applied at the same moment takes it too, so whichever
 * commits second sees the other's rows and the mail is queued exactly once.
 */
export async function applyConsumerFacts(
  context: Pick<HandlerContext<"consumer.authenticated">, "tx" | "links" | "queueEmail">,
  consumerId: string,
  facts: ConsumerFacts,
): Promise<void> {
  const { tx } = context;
  const before = await findConsumerEmail(tx, consumerId);
  const after = await mergeConsumer(tx, consumerId, facts);
  if (after === null || after === before) return;
  const drafts = await owedEmails(tx, {
    consumerId,
    to: after,
    shopUrl: context.links.shopUrl,
    now: new Date(),
  });
  for (const draft of drafts) await context.queueEmail(draft);
}
