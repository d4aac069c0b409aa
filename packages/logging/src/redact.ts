// Deliberately loose: anything shaped like local@domain, inside <> or not, as SMTP servers quote it.
const EMAIL_ADDRESS = /[^\s<>()[\]{},;:"'@]+@[^\s<>()[\]{},;:"'@]+\.[^\s<>()[\]{},;:"'@]+/g;

/**
 * Replaces every email address in `text` with `[email]`. SMTP replies quote the recipient
 * (`550 5.1.1 <someone@example.test>: user unknown`), and such text ends up in logs, alerts and
 * stored errors, where personal data must not.
 */
export function redactEmailAddresses(text: string): string {
  return text.replace(EMAIL_ADDRESS, "[email]");
}
