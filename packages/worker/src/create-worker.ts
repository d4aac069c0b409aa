import type { Database } from "@fanfare-relay/db/schema";
import type { TypedEvent } from "@fanfare-relay/events/catalogue";
import { parseEnvelope, type Envelope } from "@fanfare-relay/events/envelope";
import { familyQueueNames, type Family } from "@fanfare-relay/events/families";
import type { Logger } from "@fanfare-relay/logging/logger";
import { eventIdForJob } from "@fanfare-relay/queues/job-id";
import { RETRY_BACKOFF_TYPE, retryDelayMs } from "@fanfare-relay/queues/retry-schedule";
import { Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Kysely } from "kysely";
import { Alerter } from "./alerts.ts";
import { recordDeadLetter } from "./dead-letters.ts";
import { recordFailedAttempt } from "./webhook-events.ts";
import { EmailDeliveryError, deliverEventEmails, type EmailSender } from "./email-outbox.ts";
import { FailureRateMonitor } from "./failure-rate.ts";
import type { HandlerMap } from "./handler.ts";
import { createWorkerMetrics, type WorkerMetrics } from "./metrics.ts";
import { PermanentEventError } from "./permanent-error.ts";
import { parseFamilyEvent, processEvent, type ProcessOutcome } from "./process-event.ts";
import { redriveDeadLetters } from "./redrive.ts";

export interface WorkerDeps<F extends Family> {
  family: F;
  handlers: HandlerMap<F>;
  db: Kysely<Database>;
  /** A connection made with createWorkerConnection (maxRetriesPerRequest: null). */
  connection: Redis;
  prefix: string;
  mailer: EmailSender;
  logger: Logger;
  concurrency: number;
  /** 1 in production; tests and simulations shrink the retry schedule with it. */
  retryTimeScale?: number;
  /** How long a job's lock lasts without renewal: a killed worker's job is retried after it. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Times a job may stall (its worker died) before BullMQ fails it; default 5. */
  maxStalledCount?: number;
  messageIdDomain: string;
  shopUrl: string;
  opsAlertEmail?: string | undefined;
  failureAlertThreshold?: number;
  failureAlertWindowMs?: number;
  redriveAfterMs?: number;
  maxRedrives?: number;
  /** 0 disables the scheduled re-drive (tests call redriveDeadLetters themselves). */
  redriveIntervalMs?: number;
}

export interface FamilyWorker {
  readonly queueName: string;
  readonly worker: Worker;
  readonly metrics: WorkerMetrics;
  start(): void;
  /** Resolves once the worker's Redis connection is up. */
  waitUntilReady(): Promise<void>;
  isRunning(): boolean;
  redriveDeadLetters(): Promise<number>;
  close(): Promise<void>;
}

export interface JobResult {
  outcome: ProcessOutcome;
  emailsSent: number;
}

function parseEnvelopeOrUndefined(payload: unknown): Envelope | undefined {
  const parsed = parseEnvelope(payload);
  return parsed.success ? parsed.envelope : undefined;
}

const errorMessage = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).slice(0, 2000);

/** Wires a family's handlers to its BullMQ queue: retries, dead letters, alerts, metrics. */
export function createWorker<F extends Family>(deps: WorkerDeps<F>): FamilyWorker {
  const {
    family,
    db,
    connection,
    prefix,
    mailer,
    logger,
    retryTimeScale = 1,
    failureAlertThreshold = 10,
    failureAlertWindowMs = 5 * 60_000,
    redriveAfterMs = 60 * 60_000,
    maxRedrives = 3,
    redriveIntervalMs = 5 * 60_000,
  } = deps;
  const queueName = familyQueueNames[family];
  const metrics = createWorkerMetrics();
  const alerter = new Alerter({
    logger,
    sender: mailer,
    opsEmail: deps.opsAlertEmail,
    messageIdDomain: deps.messageIdDomain,
  });
  const failureRate = new FailureRateMonitor({
    redis: connection,
    prefix: `${prefix}:${queueName}`,
    threshold: failureAlertThreshold,
    windowMs: failureAlertWindowMs,
  });
  const processOptions = {
    db,
    family,
    handlers: deps.handlers,
    messageIdDomain: deps.messageIdDomain,
    shopUrl: deps.shopUrl,
  };

  // Failures the processor saw; any other failure (BullMQ failing a job that stalled too often)
  // is handled from the worker's "failed" event.
  const seen = new WeakSet<object>();

  async function onFailure(
    job: Job,
    event: TypedEvent | undefined,
    error: unknown,
    forceFinal = false,
  ) {
    const message = errorMessage(error);
    const attempt = job.attemptsMade + 1;
    const final =
      forceFinal || error instanceof PermanentEventError || attempt >= (job.opts.attempts ?? 1);
    const labels = { queue: queueName, type: job.name };
    metrics.jobs.inc({ ...labels, outcome: final ? "dead" : "failed" });
    const log = { eventId: event?.id ?? eventIdForJob(job.id ?? ""), type: job.name, attempt };
    if (!final) logger.warn({ ...log, err: error }, "event failed, will retry");
    try {
      // A payload that failed its schema still has a valid envelope worth a row for operators.
      const head = event ?? parseEnvelopeOrUndefined(job.data);
      if (head !== undefined) await recordFailedAttempt(db, head, family, message);
      if (final) {
        metrics.attempts.observe(labels, attempt);
        const eventId = event?.id ?? eventIdForJob(job.id ?? "");
        const jobId = job.id ?? "";
        await recordDeadLetter(db, {
          eventId,
          type: job.name,
          queueName,
          jobId,
          payload: job.data,
          error: message,
        });
        await alerter.deadLetter({
          eventId,
          type: job.name,
          queueName,
          jobId,
          attempts: attempt,
          error: message,
        });
      }
      const rate = await failureRate.record(job.name, job.id ?? "");
      if (rate.alert) {
        await alerter.failureRate({
          type: job.name,
          queueName,
          failures: rate.count,
          windowSeconds: Math.round(failureAlertWindowMs / 1000),
        });
      }
    } catch (bookkeeping) {
      // The job still fails and stays in BullMQ's failed set; only the bookkeeping is missing.
      logger.error({ ...log, err: bookkeeping }, "could not record the failure");
    }
  }

  async function processJob(job: Job): Promise<JobResult> {
    const stopTimer = metrics.processingSeconds.startTimer({ queue: queueName, type: job.name });
    let event: TypedEvent | undefined;
    try {
      event = parseFamilyEvent(family, job.data);
      let queued = 0;
      const outcome = await processEvent(
        { ...processOptions, onEmailQueued: () => (queued += 1) },
        event,
      );
      // After the commit, never inside it: a slow SMTP server must not hold the event's domain
      // rows locked, and a failed send must not undo the event. A duplicate may have mails left
      // from an attempt whose sending failed; a fresh event has only those it just queued (most
      // queue none, and skipping the lookup saves a round trip per event).
      const report =
        outcome === "duplicate" || queued > 0
          ? await deliverEventEmails(db, mailer, event.id)
          : { sent: [], failed: [] };
      for (const sent of report.sent) {
        metrics.emails.inc({ queue: queueName, template: sent.template, outcome: "sent" });
      }
      if (report.failed.length > 0) {
        metrics.emails.inc(
          { queue: queueName, template: "any", outcome: "failed" },
          report.failed.length,
        );
        const first = report.failed[0]?.error.message ?? "unknown";
        throw new EmailDeliveryError(`${String(report.failed.length)} email(s) not sent: ${first}`);
      }
      const labels = { queue: queueName, type: job.name };
      metrics.jobs.inc({ ...labels, outcome });
      metrics.attempts.observe(labels, job.attemptsMade + 1);
      logger.debug({ eventId: event.id, type: event.type, outcome }, "event processed");
      return { outcome, emailsSent: report.sent.length };
    } catch (error) {
      await onFailure(job, event, error);
      const thrown =
        error instanceof PermanentEventError ? new UnrecoverableError(error.message) : error;
      if (typeof thrown === "object" && thrown !== null) seen.add(thrown);
      throw thrown;
    } finally {
      stopTimer();
    }
  }

  const worker = new Worker(queueName, processJob, {
    connection,
    prefix,
    concurrency: deps.concurrency,
    autorun: false,
    lockDuration: deps.lockDurationMs ?? 30_000,
    stalledInterval: deps.stalledIntervalMs ?? 30_000,
    // A stalled job (its worker died) is safe to run again: the claim makes it idempotent.
    maxStalledCount: deps.maxStalledCount ?? 5,
    settings: {
      backoffStrategy: (attemptsMade: number, type?: string) =>
        type === RETRY_BACKOFF_TYPE ? retryDelayMs(attemptsMade, retryTimeScale) : 0,
    },
  });
  worker.on("error", (error) => {
    logger.error({ err: error }, "worker error");
  });
  worker.on("failed", (job, error) => {
    if (job === undefined || seen.has(error)) return;
    // Moved to failed by BullMQ itself (e.g. stalled more than maxStalledCount times): final.
    void onFailure(job, undefined, error, true);
  });

  const queue = new Queue(queueName, { connection, prefix });
  queue.on("error", (error) => {
    logger.debug({ err: error }, "queue error");
  });

  const redrive = async () => {
    const count = await redriveDeadLetters({
      db,
      queue,
      afterMs: redriveAfterMs,
      maxRedrives,
      onError: (error, eventId) => {
        logger.error({ err: error, eventId }, "dead letter could not be re-driven");
      },
    });
    if (count > 0) {
      metrics.redriven.inc({ queue: queueName }, count);
      logger.info({ count, queue: queueName }, "dead letters re-driven");
    }
    return count;
  };
  let redriveTimer: NodeJS.Timeout | undefined;

  return {
    queueName,
    worker,
    metrics,
    start() {
      void worker.run().catch((error: unknown) => {
        logger.fatal({ err: error }, "worker stopped unexpectedly");
      });
      if (redriveIntervalMs > 0) {
        redriveTimer = setInterval(() => {
          redrive().catch((error: unknown) => {
            logger.error({ err: error }, "dead-letter re-drive failed");
          });
        }, redriveIntervalMs);
        redriveTimer.unref();
      }
    },
    async waitUntilReady() {
      await worker.waitUntilReady();
    },
    isRunning: () => worker.isRunning(),
    redriveDeadLetters: redrive,
    async close() {
      clearInterval(redriveTimer);
      // Waits for jobs in progress; their locks are released, nothing is left stalled.
      await worker.close();
      await queue.close();
    },
  };
}
