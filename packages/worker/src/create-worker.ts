import type { Database } from "@fanfare-relay/db/schema";
import type { TypedEvent } from "@fanfare-relay/events/catalogue";
import { familyQueueNames, type Family } from "@fanfare-relay/events/families";
import type { Logger } from "@fanfare-relay/logging/logger";
import { eventIdForJob } from "@fanfare-relay/queues/job-id";
import { bullPrefix, queueKeyBase } from "@fanfare-relay/queues/queue-keys";
import type { RedisConnection } from "@fanfare-relay/queues/redis-connection";
import { sharedQueueOptions } from "@fanfare-relay/queues/queue-settings";
import { RETRY_BACKOFF_TYPE, retryDelayMs } from "@fanfare-relay/queues/retry-schedule";
import { Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import type { Kysely } from "kysely";
import { Alerter } from "./alerts.ts";
import { recordDeadLetter } from "./dead-letters.ts";
import { noteDeadLettering, type DeadLettering } from "./dead-letterings.ts";
import {
  isEventSettled,
  recordFailedAttempt,
  settleAppliedEvent,
  type EventHead,
} from "./webhook-events.ts";
import {
  EmailDeliveryError,
  deliverEmails,
  type DeliveryReport,
  type EmailSender,
} from "./email-outbox.ts";
import { FailureRateMonitor } from "./failure-rate.ts";
import { FetchWatchdog, type StallInfo } from "./fetch-watchdog.ts";
import type { HandlerMap } from "./handler.ts";
import { createWorkerMetrics, type WorkerMetrics } from "./metrics.ts";
import { PermanentEventError } from "./permanent-error.ts";
import { MicroBatcher, type BatchResult } from "./micro-batcher.ts";
import {
  applyEvents,
  parseFamilyEvent,
  type AppliedEvent,
  type ProcessOutcome,
} from "./process-event.ts";
import { reconcileDeadLetters } from "./reconcile-dead-letters.ts";
import { redriveDeadLetters } from "./redrive.ts";
import { isDataError, loggableError, storableErrorText } from "./storable.ts";

export interface WorkerDeps<F extends Family> {
  family: F;
  handlers: HandlerMap<F>;
  db: Kysely<Database>;
  /** A connection made with createWorkerConnection (maxRetriesPerRequest: null). */
  connection: RedisConnection;
  prefix: string;
  mailer: EmailSender;
  logger: Logger;
  /** Jobs in progress at once (BullMQ's concurrency): at least the batch size, for full batches. */
  concurrency: number;
  /** At most this many events are applied in one transaction; default 50 (1 = no batching). */
  batchSize?: number;
  /** How long a batch waits to fill once its first event arrived, in ms; default 5. */
  batchWaitMs?: number;
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
  /**
   * How often BullMQ's failed set is reconciled with the dead letters (letters the database could
   * not take when their job failed are written then); it also runs at start. Default 60 s; 0
   * disables it (tests call reconcileDeadLetters themselves).
   */
  reconcileIntervalMs?: number;
  /** Jobs that failed less than this long ago are left to their worker; default 30 s. */
  reconcileGraceMs?: number;
  /**
   * How long jobs may wait while this worker has a free slot and starts none before its fetch
   * loop counts as stalled (see fetch-watchdog.ts), in ms; default 60 s, 0 disables the watchdog.
   */
  stallAfterMs?: number;
  /** How often the fetch watchdog checks, in ms; default 10 s. */
  stallCheckIntervalMs?: number;
  /**
   * Whether the worker is meant to fetch jobs now; default: from `start()` until `close()`. The
   * app passes its intake's intent: a worker paused for a database outage is not stalled.
   */
  takingJobs?: () => boolean;
  /**
   * Called once when the watchdog finds the worker stalled, after its `error` line
   * (`"alert":"worker_stalled"`) was logged; the app fails its health checks and restarts.
   */
  onStall?: (info: StallInfo) => void;
}

export interface FamilyWorker {
  readonly queueName: string;
  readonly worker: Worker;
  readonly metrics: WorkerMetrics;
  start(): void;
  /** Resolves once the worker's Redis connection is up. */
  waitUntilReady(): Promise<void>;
  isRunning(): boolean;
  /** True once the fetch watchdog found the worker stalled (its loop no longer takes jobs). */
  isStalled(): boolean;
  redriveDeadLetters(): Promise<number>;
  /** One reconciliation round (see reconcile-dead-letters.ts); returns the letters written. */
  reconcileDeadLetters(): Promise<number>;
  close(): Promise<void>;
}

/** A batch's answer for one event: applied (or found applied), and its mail sent or not. */
interface BatchOutcome extends AppliedEvent {
  report: DeliveryReport;
}

const noMail: DeliveryReport = Object.freeze({ sent: [], failed: [] });

export interface JobResult {
  outcome: ProcessOutcome;
  emailsSent: number;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The event id a job stands for; a job id that is not a valid escaped id stands for itself. */
function eventIdOf(job: Job): string {
  const jobId = job.id ?? "";
  try {
    return eventIdForJob(jobId);
  } catch {
    return jobId;
  }
}

/**
 * What the bookkeeping can know of a job's event, whatever its payload: the parsed event when
 * there is one, else the job's id and name plus whatever envelope fields the payload has.
 */
function headOfJob(job: Job, event: TypedEvent | undefined): EventHead {
  if (event !== undefined) return event;
  const data: unknown = job.data;
  const fields = isRecord(data) ? data : {};
  return {
    id: eventIdOf(job),
    type: job.name,
    created: fields.created,
    organizationId: fields.organizationId,
    experienceId: fields.experienceId,
  };
}

/** Whether BullMQ will retry this failed attempt (see Job.shouldRetryJob) or fail it for good. */
function isLastAttempt(job: Job, attempt: number, retryTimeScale: number): boolean {
  if (attempt >= (job.opts.attempts ?? 1)) return true;
  const backoff = job.opts.backoff;
  // Our schedule answers -1 past its end, which BullMQ takes as "do not retry".
  return (
    typeof backoff === "object" &&
    backoff.type === RETRY_BACKOFF_TYPE &&
    retryDelayMs(attempt, retryTimeScale) < 0
  );
}

/** What one failed attempt was, as its entry in BullMQ's stack traces says it. */
interface FailedAttempt {
  attempt: number;
  final: boolean;
  /** For a final failure, what Redis knew of the job's earlier dead-letterings. */
  dead?: DeadLettering | undefined;
}

/** The first line of an attempt's stack entry: which attempt, when, and what became of it. */
function attemptHeading({ attempt, final, dead }: FailedAttempt): string {
  const fate = !final
    ? "will be retried"
    : dead !== undefined && dead.retried > 0
      ? `dead letter again (retried ${String(dead.retried)} time(s) after going dead)`
      : "dead letter";
  return `--- attempt ${String(attempt)}, ${new Date().toISOString()}: ${fate} ---`;
}

/**
 * The error a job fails with: never an email address in BullMQ's failedReason and stack. BullMQ
 * keeps one stack per failed attempt, across retries, and the dashboard shows them end to end:
 * each starts with its attempt's heading, so a retried job's failures read as two attempts, not
 * one stack shown twice. A copy: the original may be shared by the events of a batch.
 */
function failureToThrow(error: unknown, heading: string): unknown {
  if (!(error instanceof Error)) return error;
  const safe = loggableError(error);
  // The permanent error's own stack (where it was found), not the line that converts it.
  const thrown = error instanceof PermanentEventError ? new UnrecoverableError(safe.message) : safe;
  thrown.stack = `${heading}\n${safe.stack ?? `${safe.name}: ${safe.message}`}`;
  return thrown;
}

/** How long the "alert already sent" markers of letters not yet written are kept. */
const ALERT_MARKER_TTL_SECONDS = 7 * 24 * 60 * 60;

/** Clock differences between replicas: each round re-reads this much of the last one. */
const RECONCILE_OVERLAP_MS = 60_000;

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
    reconcileIntervalMs = 60_000,
    reconcileGraceMs = 30_000,
    batchSize = 50,
    batchWaitMs = 5,
    stallAfterMs = 60_000,
    stallCheckIntervalMs = 10_000,
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
    prefix: queueKeyBase(prefix, queueName),
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
  // Jobs whose dead-letter alert went out while their letter could not be written: job id →
  // attempts made. The reconciliation that writes the letter later does not alert again.
  const alertedKey = `${queueKeyBase(prefix, queueName)}:dead-letters:alerted`;

  // Failures the processor saw; any other failure (BullMQ failing a job that stalled too often)
  // is handled from the worker's "failed" event.
  const seen = new WeakSet<object>();

  type LogContext = Record<string, unknown>;
  /** One piece of bookkeeping: its failure is logged and never stops the next piece. */
  async function step(log: LogContext, what: string, run: () => Promise<unknown>) {
    try {
      await run();
      return true;
    } catch (error) {
      logger.error({ ...log, err: loggableError(error) }, `could not ${what}`);
      return false;
    }
  }

  /**
   * Everything a failed attempt leaves behind. For a final failure the alert comes first and
   * does not depend on the database: a failure while PostgreSQL is down is still heard, and its
   * letter is written by the reconciliation once PostgreSQL is back. A job retried after going
   * dead that fails for good again is a repeat (see dead-letterings.ts): its letter's retry count
   * follows, and its alert says so (see Alerter.deadLetter). Never throws.
   */
  async function onFailure(
    job: Job,
    event: TypedEvent | undefined,
    error: unknown,
    source: "processor" | "bullmq",
  ): Promise<FailedAttempt> {
    const message = storableErrorText(error);
    // In the processor the attempt is not counted yet; in the "failed" event it is.
    const attempt = source === "processor" ? job.attemptsMade + 1 : job.attemptsMade;
    const final =
      source === "bullmq"
        ? await job.getState().then(
            (state) => state === "failed",
            () => true,
          )
        : error instanceof PermanentEventError || isLastAttempt(job, attempt, retryTimeScale);
    const labels = { queue: queueName, type: job.name };
    metrics.jobs.inc({ ...labels, outcome: final ? "dead" : "failed" });
    const head = headOfJob(job, event);
    const jobId = job.id ?? "";
    const log = { eventId: head.id, type: job.name, attempt };
    let alerted: Promise<void> | undefined;
    let dead: DeadLettering | undefined;
    if (final) {
      metrics.attempts.observe(labels, attempt);
      // Redis, not PostgreSQL: bounded, and unanswered it counts as a first dead-lettering.
      dead = await noteDeadLettering(connection, queue.toKey(jobId), message);
      // The log line is written synchronously inside deadLetter; the mail goes meanwhile.
      alerted = alerter.deadLetter({
        eventId: head.id,
        type: job.name,
        queueName,
        jobId,
        attempts: attempt,
        error: message,
        retried: dead?.retried,
        previousError: dead?.previousError,
      });
    } else {
      logger.warn({ ...log, err: loggableError(error) }, "event failed, will retry");
    }
    await step(log, "record the failed attempt", () =>
      recordFailedAttempt(db, head, family, message),
    );
    if (final) {
      const recorded = await step(
        log,
        "record the dead letter (the reconciliation writes it once the database is back)",
        () =>
          recordDeadLetter(db, {
            eventId: head.id,
            type: job.name,
            queueName,
            jobId,
            payload: job.data,
            error: message,
            family,
            head,
            attempts: attempt,
            retried: dead?.retried,
          }),
      );
      if (!recorded) {
        await step(log, "remember the alert", () =>
          connection
            .multi()
            .hset(alertedKey, jobId, String(attempt))
            // Entries the reconciliation never reaches (the job was retried first) age out.
            .expire(alertedKey, ALERT_MARKER_TTL_SECONDS)
            .exec(),
        );
      }
    }
    await step(log, "count the failure", async () => {
      const rate = await failureRate.record(job.name, jobId);
      if (rate.alert) {
        await alerter.failureRate({
          type: job.name,
          queueName,
          failures: rate.count,
          windowSeconds: Math.round(failureAlertWindowMs / 1000),
        });
      }
    });
    await alerted;
    return { attempt, final, dead };
  }

  /**
   * The reconciliation's part: a job in the failed set without an open letter gets one, unless
   * its event was completed since (a retry, a redelivery or a job under another id applied it and
   * sent its mail). Returns whether a letter was written.
   */
  async function recordLateDeadLetter(job: Job): Promise<boolean> {
    const head = headOfJob(job, undefined);
    if (await isEventSettled(db, head.id)) return false;
    const jobId = job.id ?? "";
    const error = storableErrorText(job.failedReason || "failed (no reason recorded)");
    // Read before the letter is written: should Redis fail here, the job is still without a
    // letter and the next round alerts for it, instead of a letter written with no alert.
    const alerted = await connection.hget(alertedKey, jobId);
    await recordDeadLetter(db, {
      eventId: head.id,
      type: job.name,
      queueName,
      jobId,
      payload: job.data,
      error,
      family,
      head,
      attempts: job.attemptsMade,
      failedAt: new Date(job.finishedOn ?? Date.now()),
    });
    metrics.reconciled.inc({ queue: queueName });
    // Retried and completed while the letter was being written: the event is settled after all.
    if ((await job.getState()) === "completed") {
      await settleAppliedEvent(db, head.id);
      await connection.hdel(alertedKey, jobId);
      return true;
    }
    if (alerted === String(job.attemptsMade)) {
      logger.info(
        { eventId: head.id, type: job.name, jobId },
        "dead letter written late (its alert went out when the job failed)",
      );
    } else {
      // Its worker died before it could alert (or the marker was lost): alert now.
      await alerter.deadLetter({
        eventId: head.id,
        type: job.name,
        queueName,
        jobId,
        attempts: job.attemptsMade,
        error,
        recordedLate: true,
      });
    }
    await connection.hdel(alertedKey, jobId);
    return true;
  }

  /**
   * One transaction for the whole batch. When it fails, nothing of it was applied: its events are
   * applied again one by one, so a poison event fails alone (as its own job, retried and
   * dead-lettered as ever) and its neighbours commit.
   */
  async function applyInTransactions(events: TypedEvent[]): Promise<BatchResult<AppliedEvent>[]> {
    metrics.batchSize.observe({ queue: queueName }, events.length);
    if (events.length > 1) {
      try {
        const applied = await applyEvents(processOptions, events);
        return applied.map((value) => ({ ok: true, value }));
      } catch (error) {
        metrics.batchesSplit.inc({ queue: queueName });
        logger.warn(
          { err: loggableError(error), events: events.length },
          "batch failed as a whole; applying its events one at a time",
        );
      }
    }
    const results: BatchResult<AppliedEvent>[] = [];
    for (const event of events) {
      try {
        const applied = await applyEvents(processOptions, [event]);
        results.push(...applied.map((value) => ({ ok: true as const, value })));
      } catch (error) {
        results.push({ ok: false, error });
      }
    }
    return results;
  }

  /**
   * Applies a batch, then sends its mail: after the commit, never inside it (a slow SMTP server
   * must not hold the events' domain rows locked, and a failed send must not undo an event). A
   * duplicate may have mails left from an attempt whose sending failed; a fresh event has only
   * those it just queued (most queue none: they are not looked up).
   */
  async function applyBatch(events: TypedEvent[]): Promise<BatchResult<BatchOutcome>[]> {
    const applied = await applyInTransactions(events);
    const mailing = new Set(
      events.filter((event, index) => {
        const result = applied[index];
        return (
          result?.ok === true &&
          (result.value.outcome === "duplicate" || result.value.emailsQueued > 0)
        );
      }),
    );
    let reports: Map<string, DeliveryReport> | undefined;
    let deliveryError: unknown;
    try {
      reports = await deliverEmails(db, mailer, [
        ...new Set([...mailing].map((event) => event.id)),
      ]);
    } catch (error) {
      deliveryError = error;
    }
    // One event id under two job ids in one batch: its mail is reported (and counted) once.
    const reported = new Set<string>();
    return applied.map((result, index) => {
      const event = events[index];
      if (!result.ok || event === undefined) return result as BatchResult<BatchOutcome>;
      if (!mailing.has(event) || reported.has(event.id)) {
        return { ok: true, value: { ...result.value, report: noMail } };
      }
      reported.add(event.id);
      const report = reports?.get(event.id);
      if (report === undefined) return { ok: false, error: deliveryError };
      return { ok: true, value: { ...result.value, report } };
    });
  }
  const batcher = new MicroBatcher({ maxSize: batchSize, maxWaitMs: batchWaitMs, run: applyBatch });

  // Jobs in the processor now (a batch's jobs included): all slots taken means no fetch is due.
  let inProgress = 0;
  async function processJob(job: Job): Promise<JobResult> {
    const stopTimer = metrics.processingSeconds.startTimer({ queue: queueName, type: job.name });
    inProgress += 1;
    watchdog.jobStarted();
    let event: TypedEvent | undefined;
    try {
      event = parseFamilyEvent(family, job.data);
      const { outcome, report } = await batcher.submit(event);
      for (const sent of report.sent) {
        metrics.emails.inc({ queue: queueName, template: sent.template, outcome: "sent" });
      }
      if (report.failed.length > 0) {
        metrics.emails.inc(
          { queue: queueName, template: "any", outcome: "failed" },
          report.failed.length,
        );
        const first = report.failed[0]?.error ?? "unknown";
        // Redacted: SMTP replies quote the recipient, and this text reaches logs, BullMQ and
        // the dead letter.
        throw new EmailDeliveryError(
          `${String(report.failed.length)} email(s) not sent: ${storableErrorText(first)}`,
        );
      }
      // An event applied earlier whose mail has now all gone out: its dead letter (if any)
      // resolves and `dead` becomes `completed` again.
      if (outcome === "duplicate") await settleAppliedEvent(db, event.id);
      const labels = { queue: queueName, type: job.name };
      metrics.jobs.inc({ ...labels, outcome });
      metrics.attempts.observe(labels, job.attemptsMade + 1);
      logger.debug({ eventId: event.id, type: event.type, outcome }, "event processed");
      return { outcome, emailsSent: report.sent.length };
    } catch (caught) {
      // A value PostgreSQL refuses (a time out of range, NUL in text, an index entry too large)
      // is refused on every attempt: fail for good at once instead of six times over 10 hours.
      const error =
        isDataError(caught) && !(caught instanceof PermanentEventError)
          ? new PermanentEventError("WORKER_UNSTORABLE_EVENT", storableErrorText(caught))
          : caught;
      // onFailure guards each step; this only keeps the job's own error the one thrown.
      const failed = await onFailure(job, event, error, "processor").catch(
        (unexpected: unknown): FailedAttempt => {
          logger.error({ err: loggableError(unexpected) }, "could not record the failure");
          return { attempt: job.attemptsMade + 1, final: error instanceof PermanentEventError };
        },
      );
      const thrown = failureToThrow(error, attemptHeading(failed));
      if (typeof thrown === "object" && thrown !== null) seen.add(thrown);
      throw thrown;
    } finally {
      inProgress -= 1;
      stopTimer();
    }
  }

  const worker = new Worker(queueName, processJob, {
    connection,
    prefix: bullPrefix(prefix, queueName),
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
    logger.error({ err: loggableError(error) }, "worker error");
  });
  worker.on("failed", (job, error) => {
    if (job === undefined || seen.has(error)) return;
    // Failed by BullMQ itself (e.g. stalled more than maxStalledCount times): usually final.
    void onFailure(job, undefined, error, "bullmq").catch((unexpected: unknown) => {
      logger.error({ err: loggableError(unexpected) }, "could not record the failure");
    });
  });

  const queue = new Queue(queueName, {
    ...sharedQueueOptions,
    connection,
    prefix: bullPrefix(prefix, queueName),
  });
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
        logger.error({ err: loggableError(error), eventId }, "dead letter could not be re-driven");
      },
    });
    if (count > 0) {
      metrics.redriven.inc({ queue: queueName }, count);
      logger.info({ count, queue: queueName }, "dead letters re-driven");
    }
    return count;
  };
  let redriveTimer: NodeJS.Timeout | undefined;

  // The first round reads the whole failed set (page by page); later ones only what failed since.
  let reconcileSince = -Infinity;
  let reconciling: Promise<number> | undefined;
  const round = async () => {
    const result = await reconcileDeadLetters({
      db,
      queue,
      redis: connection,
      since: reconcileSince,
      graceMs: reconcileGraceMs,
      record: recordLateDeadLetter,
    });
    reconcileSince = result.until - RECONCILE_OVERLAP_MS;
    if (result.written > 0) {
      logger.warn(
        { count: result.written, queue: queueName },
        "dead letters written by the reconciliation",
      );
    }
    return result.written;
  };
  /** A fresh round, after the one in progress if any: rounds never overlap. */
  const reconcile = async (): Promise<number> => {
    while (reconciling !== undefined) await reconciling.catch(() => undefined);
    const current = round().finally(() => {
      reconciling = undefined;
    });
    reconciling = current;
    return current;
  };
  const reconcileInBackground = () => {
    // A round still running (a long failed set, a slow database) is not queued up behind.
    if (reconciling !== undefined) return;
    reconcile().catch((error: unknown) => {
      logger.error(
        { err: loggableError(error) },
        "dead-letter reconciliation failed; retried on the next round",
      );
    });
  };
  let reconcileTimer: NodeJS.Timeout | undefined;

  let started = false;
  let closed = false;
  const takingJobs = deps.takingJobs ?? (() => started && worker.closing === undefined);
  const watchdog = new FetchWatchdog({
    intervalMs: stallCheckIntervalMs,
    stallAfterMs,
    // Only jobs ready to run: delayed ones (retries) are not due, paused ones not wanted.
    waitingJobs: () => queue.getJobCountByTypes("wait", "prioritized"),
    busy: () => inProgress >= deps.concurrency,
    takingJobs: () => !closed && takingJobs(),
    onStall: (info) => {
      const idleSeconds = Math.round(info.idleMs / 1000);
      logger.error(
        { alert: "worker_stalled", queue: queueName, waiting: info.waiting, idleSeconds },
        `worker stopped taking jobs: ${String(info.waiting)} waiting, none started for ${String(idleSeconds)} s; restarting`,
      );
      deps.onStall?.(info);
    },
  });

  return {
    queueName,
    worker,
    metrics,
    start() {
      started = true;
      if (stallAfterMs > 0) watchdog.start();
      void worker.run().catch((error: unknown) => {
        logger.fatal({ err: error }, "worker stopped unexpectedly");
      });
      if (redriveIntervalMs > 0) {
        redriveTimer = setInterval(() => {
          redrive().catch((error: unknown) => {
            logger.error({ err: loggableError(error) }, "dead-letter re-drive failed");
          });
        }, redriveIntervalMs);
        redriveTimer.unref();
      }
      if (reconcileIntervalMs > 0) {
        reconcileInBackground();
        reconcileTimer = setInterval(reconcileInBackground, reconcileIntervalMs);
        reconcileTimer.unref();
      }
    },
    async waitUntilReady() {
      await worker.waitUntilReady();
    },
    isRunning: () => worker.isRunning(),
    isStalled: () => watchdog.stalled,
    redriveDeadLetters: redrive,
    reconcileDeadLetters: reconcile,
    async close() {
      closed = true;
      watchdog.stop();
      clearInterval(redriveTimer);
      clearInterval(reconcileTimer);
      // Waits for jobs in progress; their locks are released, nothing is left stalled. A batch
      // still filling goes now rather than at the end of its wait.
      const closing = worker.close();
      batcher.flush();
      await closing;
      // A round in progress finishes before the queue's connection goes.
      await reconciling?.catch(() => undefined);
      await queue.close();
    },
  };
}
