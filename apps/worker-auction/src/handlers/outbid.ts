import type { EventHandler } from "@fanfare-relay/worker/handler";
import { findConsumerEmail } from "@fanfare-relay/worker/consumer-email";
import { hasBidAbove } from "../answered-outbids.ts";
import { mergeAuction } from "../auctions.ts";
import { outbidEmail, outbidEmailKey } from "@fanfare-relay/emails/outbid";

export const outbid: EventHandler<"auction.outbid"> = async (context) => {
  const { tx, event, links } = context;
  const { auctionId, experienceId, consumerId, newHighBid, currency } = event.data;
  // The sender may report a bid we never saw: the high bid still rises to it.
  const auction = await mergeAuction(tx, auctionId, experienceId, {
    currency,
    highBid: newHighBid,
  });
  await context.recordAnalytics("outbid", { auctionId, consumerId, newHighBid, currency });

  // No "bid again" mail once bidding is over, nor when the bidder has already bid higher.
  if (auction.status === "ended") return;
  if (await hasBidAbove(tx, auctionId, consumerId, newHighBid)) return;
  const to = await findConsumerEmail(tx, consumerId);
  if (to === undefined) return;
  await context.queueEmail(
    outbidEmail({
      key: outbidEmailKey(auctionId, consumerId, newHighBid),
      to,
      shopUrl: links.shopUrl,
      auctionId,
      newHighBid,
      currency,
    }),
  );
};
