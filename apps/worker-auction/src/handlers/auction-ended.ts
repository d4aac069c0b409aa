import type { EventHandler } from "@fanfare-relay/worker/handler";
import { findConsumerEmail } from "@fanfare-relay/worker/consumer-email";
import { mergeAuction } from "../auctions.ts";
import { auctionWonEmail, auctionWonEmailKey } from "@fanfare-relay/emails/auction-won";
import { outbidEmailsOfAuction } from "@fanfare-relay/emails/outbid";

export const auctionEnded: EventHandler<"auction.auction_ended"> = async (context) => {
  const { tx, event, links } = context;
  const { auctionId, experienceId, winnerId, finalBid, currency, endedAt } = event.data;
  const auction = await mergeAuction(tx, auctionId, experienceId, {
    currency,
    winnerId,
    finalBid,
    highBid: finalBid,
    endedAt,
  });
  // "Bid again" mails still waiting (SMTP outage) would now point at a closed auction.
  await context.cancelEmailsStartingWith(outbidEmailsOfAuction(auctionId));
  await context.recordAnalytics("auction_ended", {
    auctionId,
    winnerId: winnerId ?? null,
    finalBid: finalBid ?? null,
  });

  // Ended without bids: nobody to congratulate.
  if (winnerId === undefined || winnerId === null) return;
  const to = await findConsumerEmail(tx, winnerId);
  if (to === undefined) return;
  await context.queueEmail(
    auctionWonEmail({
      key: auctionWonEmailKey(auctionId),
      to,
      shopUrl: links.shopUrl,
      auctionId,
      finalBid: auction.final_bid,
      currency: auction.currency,
    }),
  );
};
