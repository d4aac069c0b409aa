import type { EmailDraft } from "@fanfare-relay/worker/handler";
import { escapeHtml, shopLink } from "@fanfare-relay/worker/html";
import { formatMoney } from "@fanfare-relay/worker/money";

export interface OutbidEmail {
  key: string;
  to: string;
  shopUrl: string;
  auctionId: string;
  /** Minor units. */
  newHighBid: number;
  currency: string;
}

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
