// An address as SMTP servers quote it (`<someone@example.test>` or bare). The domain must end in
// a letters-only label so that package paths in stack traces (`pg-pool@3.10.1_pg@8.16.3/…`) are
// left alone; the local part stops at `/` for the same reason.
const EMAIL_ADDRESS = /[^\s<>()[\]{},;:"'@/\\]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?![A-Za-z0-9-])/g;

/**
 * Replaces every email address in `text` with `[email]`. SMTP replies quote the recipient
 * (`550 5.1.1 <someone@example.test>: user unknown`), and such text ends up in logs, alerts and
 * stored errors, where personal data must not.
 */
export function redactEmailAddresses(text: string): string {
  return text.replace(EMAIL_ADDRESS, "[email]");
}
