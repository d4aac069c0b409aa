import type { EmailDraft } from "@fanfare-relay/worker/handler";
import { emailKey } from "@fanfare-relay/worker/email-key";
import { escapeHtml, formatInstant, shopLink } from "@fanfare-relay/worker/html";

/**
 * One winner mail per draw and winner, whichever path queues it: the selection
 * (`draw.winners_selected`) or the winner's email arriving later (`consumer.*`).
 */
export const drawWinnerEmailKey = (drawId: string, consumerId: string) =>
  emailKey("draw-winner", drawId, consumerId);

export interface DrawWinnerEmail {
  key: string;
  to: string;
  shopUrl: string;
  drawId: string;
  claimToken: string;
  claimDeadline: string;
}

/** The winner mail: the claim link (draw and claim token) and the claim deadline. */
export function drawWinnerEmail(input: DrawWinnerEmail): EmailDraft {
  const claimUrl = shopLink(input.shopUrl, "claim", {
    draw: input.drawId,
    token: input.claimToken,
  });
  const deadline = formatInstant(input.claimDeadline);
  return {
    key: input.key,
    to: input.to,
    template: "draw-winner",
    subject: "You won the draw! Claim your prize",
    text: [
      "Congratulations, you won the draw!",
      "",
      `Claim your prize here: ${claimUrl}`,
      "",
      `Claim it before ${deadline}. After that the prize is no longer yours.`,
    ].join("\n"),
    html: [
      "<p>Congratulations, you won the draw!</p>",
      `<p><a href="${escapeHtml(claimUrl)}">Claim your prize</a></p>`,
      `<p>Claim it before <strong>${escapeHtml(deadline)}</strong>. After that the prize is no longer yours.</p>`,
    ].join("\n"),
  };
}
