import type { Database } from "@fanfare-relay/db/schema";
import { admissionEmailKey, admissionGrantedEmail } from "@fanfare-relay/emails/admission-granted";
import { auctionWonEmail, auctionWonEmailKey } from "@fanfare-relay/emails/auction-won";
import { drawWinnerEmail, drawWinnerEmailKey } from "@fanfare-relay/emails/draw-winner";
import type { EmailDraft } from "@fanfare-relay/worker/handler";
import type { Transaction } from "kysely";

export interface OwedEmailsInput {
  /**
   * Consumer id → the email to send their owed mails to: the one stored after the event that made
   * it known or changed it.
   */
  recipients: ReadonlyMap<string, string>;
  shopUrl: string;
  /** The instant deadlines are judged at (the worker's clock, as the other families do). */
  now: Date;
}

/**
 * The mails another family would have queued for these consumers had it known their email, and
 * that no later fact has made stale since — the same rules the queue, draw and auction workers
 * apply when they queue them:
 *
 * - "You're in!" for an admission still `active` (neither completed nor expired) whose window has
 *   not passed (`queue.consumer_admitted`);
 * - the winner mail for a prize still `pending_claim` whose claim deadline has not passed
 *   (`draw.winners_selected`);
 * - the auction-won mail for an `ended` auction this consumer won (`auction.auction_ended`).
 *
 * Each draft carries the key the original path uses, so a mail both paths queue is one outbox
 * row and one send. Outbid mails are left out: they are only worth sending while the bidder can
 * still act on them, which the outbid event alone can judge. Three lookups for all the consumers
 * (`IN` on the partial indexes of migration 0004). Answers consumer id → drafts sorted by key;
 * a consumer owed nothing is absent.
 */
export async function owedEmails(
  tx: Transaction<Database>,
  { recipients, shopUrl, now }: OwedEmailsInput,
): Promise<Map<string, EmailDraft[]>> {
  const owed = new Map<string, EmailDraft[]>();
  if (recipients.size === 0) return owed;
  const consumerIds = [...recipients.keys()];
  const admissions = await tx
    .selectFrom("admissions")
    .select(["consumer_id", "experience_id", "token", "expires_at"])
    .where("consumer_id", "in", consumerIds)
    .where("status", "=", "active")
    .where("token", "is not", null)
    .where("expires_at", ">", now)
    .execute();
  const prizes = await tx
    .selectFrom("draw_winners")
    .select(["consumer_id", "draw_id", "claim_token", "claim_deadline"])
    .where("consumer_id", "in", consumerIds)
    .where("status", "=", "pending_claim")
    .where("claim_token", "is not", null)
    .where("claim_deadline", ">", now)
    .execute();
  const auctions = await tx
    .selectFrom("auctions")
    .select(["winner_id", "auction_id", "final_bid", "currency"])
    .where("winner_id", "in", consumerIds)
    .where("status", "=", "ended")
    .execute();

  const add = (consumerId: string, draft: (to: string) => EmailDraft) => {
    const to = recipients.get(consumerId);
    if (to === undefined) return;
    const drafts = owed.get(consumerId);
    if (drafts === undefined) owed.set(consumerId, [draft(to)]);
    else drafts.push(draft(to));
  };
  for (const admission of admissions) {
    const { consumer_id: consumerId, token, expires_at: expiresAt } = admission;
    if (token === null || expiresAt === null) continue;
    add(consumerId, (to) =>
      admissionGrantedEmail({
        key: admissionEmailKey(admission.experience_id, consumerId),
        to,
        shopUrl,
        token,
        expiresAt: expiresAt.toISOString(),
      }),
    );
  }
  for (const prize of prizes) {
    const { consumer_id: consumerId, claim_token: claimToken, claim_deadline: deadline } = prize;
    if (claimToken === null || deadline === null) continue;
    add(consumerId, (to) =>
      drawWinnerEmail({
        key: drawWinnerEmailKey(prize.draw_id, consumerId),
        to,
        shopUrl,
        drawId: prize.draw_id,
        claimToken,
        claimDeadline: deadline.toISOString(),
      }),
    );
  }
  for (const auction of auctions) {
    if (auction.winner_id === null) continue;
    add(auction.winner_id, (to) =>
      auctionWonEmail({
        key: auctionWonEmailKey(auction.auction_id),
        to,
        shopUrl,
        auctionId: auction.auction_id,
        finalBid: auction.final_bid,
        currency: auction.currency,
      }),
    );
  }
  for (const drafts of owed.values()) {
    drafts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
  return owed;
}
