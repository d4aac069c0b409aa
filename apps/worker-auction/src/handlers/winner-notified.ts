import type { EventHandler } from "@fanfare-relay/worker/handler";
import { mergeAuction } from "../auctions.ts";

export const winnerNotified: EventHandler<"auction.winner_notified"> = async (context) => {
  const { auctionId, experienceId, consumerId, notifiedAt } = context.event.data;
  // May arrive before the end itself: the row is created and the end fills in the rest.
  await mergeAuction(context.tx, auctionId, experienceId, { winnerNotifiedAt: notifiedAt });
  await context.recordAnalytics("auction_winner_notified", { auctionId, consumerId });
};
