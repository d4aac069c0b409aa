import type { HandlerMap } from "@fanfare-relay/worker/handler";
import { auctionEnded } from "./handlers/auction-ended.ts";
import { bidPlaced } from "./handlers/bid-placed.ts";
import { outbid } from "./handlers/outbid.ts";
import { winnerNotified } from "./handlers/winner-notified.ts";

export const auctionHandlers: HandlerMap<"auction"> = {
  "auction.bid_placed": bidPlaced,
  "auction.outbid": outbid,
  "auction.auction_ended": auctionEnded,
  "auction.winner_notified": winnerNotified,
};
