import nodemailer from "nodemailer";
import type SMTPPool from "nodemailer/lib/smtp-pool";
import type { EmailSender, OutgoingEmail } from "./email-outbox.ts";

export interface MailerOptions {
  /** e.g. `smtp://user:pass@mail.example.com:587`, `smtps://…:465`. */
  smtpUrl: string;
  from: string;
}

export interface Mailer extends EmailSender {
  close(): void;
}

/** nodemailer over SMTP, pooled: during a drop one connection per email would be the bottleneck. */
export function createMailer({ smtpUrl, from }: MailerOptions): Mailer {
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    pool: true,
    maxConnections: 5,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  } satisfies SMTPPool.Options);
  return {
    async send(email: OutgoingEmail) {
      await transport.sendMail({
        from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: email.messageId,
      });
    },
    close() {
      transport.close();
    },
  };
}

/** The domain of the From address, for Message-IDs: `Shop <no-reply@shop.example>` → shop.example. */
export function domainOf(from: string): string {
  const match = /@([^>\s]+)>?\s*$/.exec(from);
  return match?.[1] ?? "fanfare-relay.local";
}
