import { emailKey } from "@fanfare-relay/worker/email-key";

/** Every outbid mail of an auction: the end of the auction withdraws them all. */
export const outbidEmailsOfAuction = (auctionId: string) => `${emailKey("outbid", auctionId)}:`;

/** The outbid mails of one bidder in one auction; the key ends with the new high bid. */
export const outbidEmailsOfBidder = (auctionId: string, consumerId: string) =>
  `${emailKey("outbid", auctionId, consumerId)}:`;

/** One mail per bidder and per high bid they were beaten by. */
export const outbidEmailKey = (auctionId: string, consumerId: string, newHighBid: number) =>
  emailKey("outbid", auctionId, consumerId, newHighBid);

export const auctionWonEmailKey = (auctionId: string) => emailKey("auction-won", auctionId);
