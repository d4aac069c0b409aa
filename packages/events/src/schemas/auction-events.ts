import { z } from "zod";
import { currency, id, instant, minorUnits } from "./common.ts";

const auctionSubject = { auctionId: id, experienceId: id };

export const bidPlacedData = z.looseObject({
  ...auctionSubject,
  consumerId: id,
  bidId: id,
  amount: minorUnits,
  currency,
  placedAt: instant,
});

export const outbidData = z.looseObject({
  ...auctionSubject,
  consumerId: id,
  newHighBid: minorUnits,
  currency,
  outbidAt: instant,
});

/** An auction can end without bids: no winner and no final bid. */
export const auctionEndedData = z.looseObject({
  ...auctionSubject,
  winnerId: id.nullable().optional(),
  finalBid: minorUnits.nullable().optional(),
  currency: currency.optional(),
  endedAt: instant,
});

export const winnerNotifiedData = z.looseObject({
  ...auctionSubject,
  consumerId: id,
  notifiedAt: instant,
});
