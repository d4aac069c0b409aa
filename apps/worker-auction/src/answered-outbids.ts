import type { Database } from "@fanfare-relay/db/schema";
import type { HandlerContext } from "@fanfare-relay/worker/handler";
import { sql, type Transaction } from "kysely";
import { outbidEmailsOfBidder } from "@fanfare-relay/emails/outbid";

/** Whether the bidder has bid above `amount`: "you've been outbid at `amount`" is then stale. */
export async function hasBidAbove(
  tx: Transaction<Database>,
  auctionId: string,
  consumerId: string,
  amount: number,
): Promise<boolean> {
  const bid = await tx
    .selectFrom("auction_bids")
    .select("bid_id")
    .where("auction_id", "=", auctionId)
    .where("consumer_id", "=", consumerId)
    .where("amount", ">", amount)
    .limit(1)
    .executeTakeFirst();
  return bid !== undefined;
}

/**
 * Withdraws the bidder's unsent outbid mails about high bids their new bid already beats (a
 * waiting mail after an SMTP outage); mails about higher bids still hold.
 */
export async function cancelAnsweredOutbidEmails(
  { tx, cancelEmail }: Pick<HandlerContext<"auction.bid_placed">, "tx" | "cancelEmail">,
  auctionId: string,
  consumerId: string,
  amount: number,
): Promise<void> {
  const prefix = outbidEmailsOfBidder(auctionId, consumerId);
  const pending = await tx
    .selectFrom("email_outbox")
    .select("email_key")
    .where(sql<boolean>`starts_with(email_key, ${prefix})`)
    .where("status", "=", "pending")
    .execute();
  for (const { email_key: key } of pending) {
    const highBid = Number(key.slice(prefix.length));
    if (Number.isInteger(highBid) && highBid < amount) await cancelEmail(key);
  }
}
