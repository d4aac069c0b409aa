import type { Database } from "@fanfare-relay/db/schema";
import { admissionEmailKey, admissionGrantedEmail } from "@fanfare-relay/emails/admission-granted";
import { auctionWonEmail, auctionWonEmailKey } from "@fanfare-relay/emails/auction-won";
import { drawWinnerEmail, drawWinnerEmailKey } from "@fanfare-relay/emails/draw-winner";
import type { EmailDraft } from "@fanfare-relay/worker/handler";
import type { Transaction } from "kysely";

export interface OwedEmailsInput {
  consumerId: string;
  /** The consumer's email as stored after the event: the latest one reported. */
  to: string;
  shopUrl: string;
  /** The instant deadlines are judged at (the worker's clock, as the other families do). */
  now: Date;
}

/**
 * The mails another family would have queued for this consumer had it known their email, and
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
 * still act on them, which the outbid event alone can judge. Sorted by key.
 */
export async function owedEmails(
  tx: Transaction<Database>,
  { consumerId, to, shopUrl, now }: OwedEmailsInput,
): Promise<EmailDraft[]> {
  const admissions = await tx
    .selectFrom("admissions")
    .select(["experience_id", "token", "expires_at"])
    .where("consumer_id", "=", consumerId)
    .where("status", "=", "active")
    .where("token", "is not", null)
    .where("expires_at", ">", now)
    .execute();
  const prizes = await tx
    .selectFrom("draw_winners")
    .select(["draw_id", "claim_token", "claim_deadline"])
    .where("consumer_id", "=", consumerId)
    .where("status", "=", "pending_claim")
    .where("claim_token", "is not", null)
    .where("claim_deadline", ">", now)
    .execute();
  const auctions = await tx
    .selectFrom("auctions")
    .select(["auction_id", "final_bid", "currency"])
    .where("winner_id", "=", consumerId)
    .where("status", "=", "ended")
    .execute();

  const drafts: EmailDraft[] = [];
  for (const admission of admissions) {
    if (admission.token === null || admission.expires_at === null) continue;
    drafts.push(
      admissionGrantedEmail({
        key: admissionEmailKey(admission.experience_id, consumerId),
        to,
        shopUrl,
        token: admission.token,
        expiresAt: admission.expires_at.toISOString(),
      }),
    );
  }
  for (const prize of prizes) {
    if (prize.claim_token === null || prize.claim_deadline === null) continue;
    drafts.push(
      drawWinnerEmail({
        key: drawWinnerEmailKey(prize.draw_id, consumerId),
        to,
        shopUrl,
        drawId: prize.draw_id,
        claimToken: prize.claim_token,
        claimDeadline: prize.claim_deadline.toISOString(),
      }),
    );
  }
  for (const auction of auctions) {
    drafts.push(
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
  return drafts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
