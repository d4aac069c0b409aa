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
  /**
   * Times the job was retried after going dead before this failure (dashboard, re-drive, CLI);
   * above 0 the alert is a repeat for an event already in the dead letters.
   */
  retried?: number | undefined;
  /** For a repeat: the error it went dead with the previous time. */
  previousError?: string | undefined;
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
   *
   * One page per event unless its situation changed: a job retried after going dead that fails
   * again with the same error is logged at `warn` (`"repeat":true`, `"paged":false`) and not
   * mailed; with a different error it is paged again, marked as a repeat.
   */
  async deadLetter(input: DeadLetterAlert): Promise<void> {
    const { previousError, retried = 0, ...rest } = input;
    const alert = { ...rest, error: redactEmailAddresses(input.error) };
    if (retried === 0) {
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
      return;
    }
    const previous = previousError === undefined ? undefined : redactEmailAddresses(previousError);
    const errorChanged = previous !== undefined && previous !== alert.error;
    const repeat = { alert: "dead_letter", repeat: true, retried, errorChanged, ...alert };
    if (!errorChanged) {
      this.options.logger.warn(
        { ...repeat, paged: false },
        "dead letter failed again after a retry, same error (already alerted)",
      );
      return;
    }
    this.options.logger.error(
      { ...repeat, previousError: previous, paged: true },
      "dead letter failed again after a retry, with a new error",
    );
    await this.mail(
      `[fanfare-relay] dead letter again, new error: ${alert.type} ${alert.eventId}`,
      [
        `Event ${alert.eventId} (${alert.type}) was already a dead letter; it was retried ${String(retried)} time(s) and failed again with a different error.`,
        `Queue: ${alert.queueName}, job: ${alert.jobId}`,
        `Error: ${alert.error}`,
        `Before: ${previous}`,
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
