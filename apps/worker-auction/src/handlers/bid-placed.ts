import type { EventHandler } from "@fanfare-relay/worker/handler";
import { cancelAnsweredOutbidEmails } from "../answered-outbids.ts";
import { mergeAuction } from "../auctions.ts";

export const bidPlaced: EventHandler<"auction.bid_placed"> = async (context) => {
  const { tx, event } = context;
  const { auctionId, experienceId, consumerId, bidId, amount, currency, placedAt } = event.data;
  await tx
    .insertInto("auction_bids")
    .values({
      bid_id: bidId,
      auction_id: auctionId,
      experience_id: experienceId,
      consumer_id: consumerId,
      amount,
      currency,
      placed_at: placedAt,
    })
    .onConflict((conflict) => conflict.column("bid_id").doNothing())
    .execute();
  // The high bidder is derived from all stored bids, so bids may arrive in any order.
  await mergeAuction(tx, auctionId, experienceId, { currency, highBid: amount });
  await cancelAnsweredOutbidEmails(context, auctionId, consumerId, amount);
  await context.recordAnalytics("bid_placed", { auctionId, consumerId, bidId, amount, currency });
};
