import type { EmailDraft } from "@fanfare-relay/worker/handler";
import { escapeHtml, formatInstant, shopLink } from "@fanfare-relay/worker/html";

export interface DrawWinnerEmail {
  key: string;
  to: string;
  shopUrl: string;
  drawId: string;
  claimToken: string;
  claimDeadline: string;
}

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
