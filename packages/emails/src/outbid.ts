import type { EmailDraft } from "@fanfare-relay/worker/handler";
import { emailKey } from "@fanfare-relay/worker/email-key";
import { escapeHtml, shopLink } from "@fanfare-relay/worker/html";
import { formatMoney } from "@fanfare-relay/worker/money";

/** Every outbid mail of an auction: the end of the auction withdraws them all. */
export const outbidEmailsOfAuction = (auctionId: string) => `${emailKey("outbid", auctionId)}:`;

/** The outbid mails of one bidder in one auction; the key ends with the new high bid. */
export const outbidEmailsOfBidder = (auctionId: string, consumerId: string) =>
  `${emailKey("outbid", auctionId, consumerId)}:`;

/** One mail per bidder and per high bid they were beaten by. */
export const outbidEmailKey = (auctionId: string, consumerId: string, newHighBid: number) =>
  emailKey("outbid", auctionId, consumerId, newHighBid);

export interface OutbidEmail {
  key: string;
  to: string;
  shopUrl: string;
  auctionId: string;
  /** Minor units. */
  newHighBid: number;
  currency: string;
}

/**
 * The "bid again" mail. Only the outbid event itself can queue it: once the bidder has bid again
 * or the auction ended it is stale, so it is never sent after the fact.
 */
export function outbidEmail(input: OutbidEmail): EmailDraft {
  const auctionUrl = shopLink(input.shopUrl, `auctions/${encodeURIComponent(input.auctionId)}`);
  const highBid = formatMoney(input.newHighBid, input.currency);
  return {
    key: input.key,
    to: input.to,
    template: "outbid",
    subject: "You've been outbid",
    text: [
      "Someone has outbid you.",
      "",
      `The new high bid is ${highBid}.`,
      "",
      `Bid again here: ${auctionUrl}`,
    ].join("\n"),
    html: [
      "<p>Someone has outbid you.</p>",
      `<p>The new high bid is <strong>${escapeHtml(highBid)}</strong>.</p>`,
      `<p><a href="${escapeHtml(auctionUrl)}">Bid again</a></p>`,
    ].join("\n"),
  };
}
