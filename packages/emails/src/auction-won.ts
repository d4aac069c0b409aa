import type { EmailDraft } from "@fanfare-relay/worker/handler";
import { emailKey } from "@fanfare-relay/worker/email-key";
import { escapeHtml, shopLink } from "@fanfare-relay/worker/html";
import { formatMoney } from "@fanfare-relay/worker/money";

/**
 * One auction-won mail per auction, whichever path queues it: the end (`auction.auction_ended`)
 * or the winner's email arriving later (`consumer.*`).
 */
export const auctionWonEmailKey = (auctionId: string) => emailKey("auction-won", auctionId);

export interface AuctionWonEmail {
  key: string;
  to: string;
  shopUrl: string;
  auctionId: string;
  /** Minor units; unknown when the end event carried no amount. */
  finalBid: number | null;
  currency: string | null;
}

/** The auction-won mail: the final bid when known, and the auction's checkout link. */
export function auctionWonEmail(input: AuctionWonEmail): EmailDraft {
  const checkoutUrl = shopLink(
    input.shopUrl,
    `auctions/${encodeURIComponent(input.auctionId)}/checkout`,
  );
  const finalBid =
    input.finalBid === null || input.currency === null
      ? undefined
      : formatMoney(input.finalBid, input.currency);
  return {
    key: input.key,
    to: input.to,
    template: "auction-won",
    subject: "You won the auction!",
    text: [
      finalBid === undefined
        ? "Congratulations, you won the auction!"
        : `Congratulations, you won the auction with a bid of ${finalBid}!`,
      "",
      `Complete your purchase here: ${checkoutUrl}`,
    ].join("\n"),
    html: [
      finalBid === undefined
        ? "<p>Congratulations, you won the auction!</p>"
        : `<p>Congratulations, you won the auction with a bid of <strong>${escapeHtml(finalBid)}</strong>!</p>`,
      `<p><a href="${escapeHtml(checkoutUrl)}">Complete your purchase</a></p>`,
    ].join("\n"),
  };
}
