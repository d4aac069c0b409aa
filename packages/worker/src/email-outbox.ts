import type { Database } from "@fanfare-relay/db/schema";
import { createHash } from "node:crypto";
import { sql, type Kysely, type Transaction } from "kysely";
import type { EmailDraft } from "./handler.ts";
import { storableErrorText } from "./storable.ts";

/**
 * The Message-ID is derived from the logical email's key, so a resend after a crash carries the
 * same id and mail systems that deduplicate on it show one message.
 */
export function messageIdFor(emailKey: string, domain: string): string {
  const digest = createHash("sha256").update(emailKey).digest("hex").slice(0, 40);
  return `<${digest}@${domain}>`;
}

/**
 * Puts emails in the outbox, one statement for all of them; a key already there (queued by an
 * earlier event, or twice in this list) stays as it is: one key is one email, ever.
 */
export async function queueEmails(
  tx: Transaction<Database>,
  emails: readonly { draft: EmailDraft; eventId: string }[],
  messageIdDomain: string,
): Promise<void> {
  if (emails.length === 0) return;
  await tx
    .insertInto("email_outbox")
    .values(
      emails.map(({ draft, eventId }) => ({
        email_key: draft.key,
        message_id: messageIdFor(draft.key, messageIdDomain),
        event_id: eventId,
        template: draft.template,
        to_address: draft.to,
        subject: draft.subject,
        text_body: draft.text,
        html_body: draft.html,
      })),
    )
    .onConflict((conflict) => conflict.column("email_key").doNothing())
    .execute();
}

/** Withdraws the emails under these keys that are not sent yet, in one statement. */
export async function cancelEmails(
  tx: Transaction<Database>,
  emailKeys: readonly string[],
): Promise<void> {
  if (emailKeys.length === 0) return;
  await tx
    .updateTable("email_outbox")
    .set({ status: "cancelled" })
    .where("email_key", "in", emailKeys)
    .where("status", "=", "pending")
    .execute();
}

export async function cancelEmailsStartingWith(
  tx: Transaction<Database>,
  prefix: string,
): Promise<void> {
  // starts_with, not LIKE: ids may contain % or _.
  await tx
    .updateTable("email_outbox")
    .set({ status: "cancelled" })
    .where(sql<boolean>`starts_with(email_key, ${prefix})`)
    .where("status", "=", "pending")
    .execute();
}

export interface OutgoingEmail {
  messageId: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface EmailSender {
  send(email: OutgoingEmail): Promise<void>;
}

export class EmailDeliveryError extends Error {
  override name = "EmailDeliveryError";
}

export interface DeliveryReport {
  sent: { id: number; template: string }[];
  failed: { id: number; error: Error }[];
}

/**
 * Sends the pending emails these events queued, in one transaction: the rows are locked (SKIP
 * LOCKED: a row another worker is sending right now is its job, not ours), sent over the pooled
 * SMTP transport at once, and marked sent in one statement before the commit, so two workers
 * never send one row. The one window left is a crash (or a lost database connection) after the
 * SMTP server accepted a mail and before the commit: the row stays pending and is sent again,
 * with the same Message-ID. Answers a report per event id given (empty for an event with nothing
 * pending). Throws only when the database does; an SMTP failure is in the report (and the row's
 * `attempts`/`last_error`).
 */
export async function deliverEmails(
  db: Kysely<Database>,
  sender: EmailSender,
  eventIds: readonly string[],
): Promise<Map<string, DeliveryReport>> {
  const reports = new Map<string, DeliveryReport>(
    eventIds.map((eventId) => [eventId, { sent: [], failed: [] }]),
  );
  if (eventIds.length === 0) return reports;
  await db.transaction().execute(async (tx) => {
    const rows = await tx
      .selectFrom("email_outbox")
      .selectAll()
      .where("event_id", "in", eventIds)
      .where("status", "=", "pending")
      .orderBy("id")
      .forUpdate()
      .skipLocked()
      .execute();
    if (rows.length === 0) return;
    const outcomes = await Promise.allSettled(
      rows.map((row) =>
        sender.send({
          messageId: row.message_id,
          to: row.to_address,
          subject: row.subject,
          text: row.text_body,
          html: row.html_body,
        }),
      ),
    );
    const sentIds: number[] = [];
    for (const [index, outcome] of outcomes.entries()) {
      const row = rows[index];
      const report = row === undefined ? undefined : reports.get(row.event_id);
      if (row === undefined || report === undefined) continue;
      if (outcome.status === "fulfilled") {
        sentIds.push(row.id);
        report.sent.push({ id: row.id, template: row.template });
        continue;
      }
      const cause: unknown = outcome.reason;
      const error = cause instanceof Error ? cause : new Error(String(cause));
      report.failed.push({ id: row.id, error });
      await tx
        .updateTable("email_outbox")
        // The SMTP reply quotes the recipient (`550 5.1.1 <someone@…>`): stored redacted.
        .set({ attempts: sql`attempts + 1`, last_error: storableErrorText(error) })
        .where("id", "=", row.id)
        .execute();
    }
    if (sentIds.length > 0) {
      await tx
        .updateTable("email_outbox")
        .set({ status: "sent", sent_at: new Date(), attempts: sql`attempts + 1`, last_error: null })
        .where("id", "in", sentIds)
        .execute();
    }
  });
  return reports;
}

/** {@link deliverEmails} for one event. */
export async function deliverEventEmails(
  db: Kysely<Database>,
  sender: EmailSender,
  eventId: string,
): Promise<DeliveryReport> {
  const reports = await deliverEmails(db, sender, [eventId]);
  return reports.get(eventId) ?? { sent: [], failed: [] };
}
