import type { Logger } from "@fanfare-relay/logging/logger";
import { redactEmailAddresses } from "@fanfare-relay/logging/redact";
import { randomUUID } from "node:crypto";
import type { EmailSender } from "./email-outbox.ts";
import { messageIdFor } from "./email-outbox.ts";
import { escapeHtml } from "./html.ts";
import { loggableError } from "./storable.ts";

export interface AlerterOptions {
  logger: Logger;
  sender: EmailSender;
  /** Where alert mail goes; unset means alerts are logged only. */
  opsEmail?: string | undefined;
  messageIdDomain: string;
}

export interface DeadLetterAlert {
  eventId: string;
  type: string;
  queueName: string;
  jobId: string;
  attempts: number;
  error: string;
  /** Written by the reconciliation, after the worker that failed it could not (or died). */
  recordedLate?: boolean;
}

export interface FailureRateAlert {
  type: string;
  queueName: string;
  failures: number;
  windowSeconds: number;
}

/**
 * Alerts are logged at error (what log-based alerting watches) and mailed to operators when
 * configured. Mail is best effort: the failure may well be the SMTP server itself, and the log
 * line and the dead-letter row are the durable record.
 */
export class Alerter {
  constructor(private readonly options: AlerterOptions) {}

  /**
   * Logs the alert synchronously, before anything else can fail (the caller need not await it for
   * the line to be written), then mails it. The error text is redacted here too: it may quote an
   * SMTP server's reply, and with it a recipient's address.
   */
  async deadLetter(input: DeadLetterAlert): Promise<void> {
    const alert = { ...input, error: redactEmailAddresses(input.error) };
    this.options.logger.error({ alert: "dead_letter", ...alert }, "event moved to dead letters");
    await this.mail(
      `[fanfare-relay] dead letter: ${alert.type} ${alert.eventId}`,
      [
        `Event ${alert.eventId} (${alert.type}) failed ${String(alert.attempts)} time(s) and is now a dead letter.`,
        `Queue: ${alert.queueName}, job: ${alert.jobId}`,
        `Error: ${alert.error}`,
        "",
        "Retry it from the dashboard (failed jobs) or let the scheduled re-drive pick it up.",
      ].join("\n"),
    );
  }

  async failureRate(alert: FailureRateAlert): Promise<void> {
    this.options.logger.error(
      { alert: "failure_rate", ...alert },
      "event type failing above the alert threshold",
    );
    await this.mail(
      `[fanfare-relay] ${alert.type} failing: ${String(alert.failures)} failures in ${String(alert.windowSeconds)} s`,
      `${String(alert.failures)} attempts of ${alert.type} events failed in the last ${String(alert.windowSeconds)} seconds (queue ${alert.queueName}). Check the worker logs and the failed jobs in the dashboard.`,
    );
  }

  private async mail(subject: string, text: string): Promise<void> {
    const { opsEmail, sender, logger, messageIdDomain } = this.options;
    if (opsEmail === undefined) return;
    try {
      await sender.send({
        messageId: messageIdFor(`alert:${randomUUID()}`, messageIdDomain),
        to: opsEmail,
        subject,
        text,
        html: `<pre>${escapeHtml(text)}</pre>`,
      });
    } catch (error) {
      logger.warn({ err: loggableError(error) }, "alert email could not be sent");
    }
  }
}
