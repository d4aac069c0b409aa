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

export async function queueEmail(
  tx: Transaction<Database>,
  draft: EmailDraft,
  eventId: string,
  messageIdDomain: string,
): Promise<void> {
  await tx
    .insertInto("email_outbox")
    .values({
      email_key: draft.key,
      message_id: messageIdFor(draft.key, messageIdDomain),
      event_id: eventId,
      template: draft.template,
      to_address: draft.to,
      subject: draft.subject,
      text_body: draft.text,
      html_body: draft.html,
    })
    .onConflict((conflict) => conflict.column("email_key").doNothing())
    .execute();
}

export async function cancelEmail(tx: Transaction<Database>, emailKey: string): Promise<void> {
  await tx
    .updateTable("email_outbox")
    .set({ status: "cancelled" })
    .where("email_key", "=", emailKey)
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
 * Sends the pending emails an event queued. Each row is locked while it is sent and marked sent in
 * the same transaction, so two workers never send one row; the one window left is a crash (or a
 * lost database connection) after the SMTP server accepted the mail and before the commit: the row
 * stays pending and is sent again, with the same Message-ID.
 */
export async function deliverEventEmails(
  db: Kysely<Database>,
  sender: EmailSender,
  eventId: string,
): Promise<DeliveryReport> {
  const pending = await db
    .selectFrom("email_outbox")
    .select("id")
    .where("event_id", "=", eventId)
    .where("status", "=", "pending")
    .orderBy("id")
    .execute();
  const report: DeliveryReport = { sent: [], failed: [] };
  for (const { id } of pending) {
    try {
      const template = await deliverOne(db, sender, id);
      if (template !== undefined) report.sent.push({ id, template });
    } catch (error) {
      const cause = error instanceof Error ? error : new Error(String(error));
      report.failed.push({ id, error: cause });
      await db
        .updateTable("email_outbox")
        // The SMTP reply quotes the recipient (`550 5.1.1 <someone@…>`): stored redacted.
        .set({ attempts: sql`attempts + 1`, last_error: storableErrorText(cause) })
        .where("id", "=", id)
        .execute();
    }
  }
  return report;
}

async function deliverOne(
  db: Kysely<Database>,
  sender: EmailSender,
  id: number,
): Promise<string | undefined> {
  return db.transaction().execute(async (tx) => {
    // SKIP LOCKED: a row another worker is sending right now is its job, not ours.
    const row = await tx
      .selectFrom("email_outbox")
      .selectAll()
      .where("id", "=", id)
      .where("status", "=", "pending")
      .forUpdate()
      .skipLocked()
      .executeTakeFirst();
    if (row === undefined) return undefined;
    await sender.send({
      messageId: row.message_id,
      to: row.to_address,
      subject: row.subject,
      text: row.text_body,
      html: row.html_body,
    });
    await tx
      .updateTable("email_outbox")
      .set({ status: "sent", sent_at: new Date(), attempts: sql`attempts + 1`, last_error: null })
      .where("id", "=", id)
      .execute();
    return row.template;
  });
}
