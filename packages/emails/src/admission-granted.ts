import type { EmailDraft } from "@fanfare-relay/worker/handler";
import { emailKey } from "@fanfare-relay/worker/email-key";
import { escapeHtml, formatInstant, shopLink } from "@fanfare-relay/worker/html";

/**
 * One "You're in!" mail per consumer and experience, whichever path queues it: the admission
 * (`queue.consumer_admitted`) or the consumer's email arriving later (`consumer.*`).
 */
export const admissionEmailKey = (experienceId: string, consumerId: string) =>
  emailKey("admission-granted", experienceId, consumerId);

export interface AdmissionGrantedEmail {
  key: string;
  to: string;
  shopUrl: string;
  token: string;
  expiresAt: string;
}

/** The "You're in!" mail: the checkout link with the admission token, and when the spot ends. */
export function admissionGrantedEmail(input: AdmissionGrantedEmail): EmailDraft {
  const checkoutUrl = shopLink(input.shopUrl, "checkout", { token: input.token });
  const expires = formatInstant(input.expiresAt);
  return {
    key: input.key,
    to: input.to,
    template: "admission-granted",
    subject: "You're in! Complete your purchase",
    text: [
      "You're in! It's your turn to shop.",
      "",
      `Complete your purchase here: ${checkoutUrl}`,
      "",
      `Your spot is held until ${expires}. After that it goes to the next person in line.`,
    ].join("\n"),
    html: [
      "<p>You're in! It's your turn to shop.</p>",
      `<p><a href="${escapeHtml(checkoutUrl)}">Complete your purchase</a></p>`,
      `<p>Your spot is held until <strong>${escapeHtml(expires)}</strong>. After that it goes to the next person in line.</p>`,
    ].join("\n"),
  };
}
