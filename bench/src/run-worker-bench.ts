// One measured run: a fresh database, Redis prefix and SMTP server; the family's queue pre-filled
// through the EventProducer, then drained by worker-queue (worker-consumer, worker-draw) replicas.
import { familyQueueNames } from "@fanfare-relay/events/families";
import { EventProducer } from "@fanfare-relay/queues/producer";
import { createProducerConnection } from "@fanfare-relay/queues/redis-connection";
import { createTestDatabase } from "@fanfare-relay/testing/postgres";
import { deleteKeys, uniquePrefix } from "@fanfare-relay/testing/redis";
import { startSmtpCatcher } from "@fanfare-relay/testing/smtp-catcher";
import { sql, type Kysely } from "kysely";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { Database } from "@fanfare-relay/db/schema";
import type { Envelope } from "@fanfare-relay/events/envelope";
import type { BenchFamily, HandlerSet } from "./bench-worker.ts";
import { checkRun } from "./check-run.ts";
import { consumerEventMix } from "./consumer-event-mix.ts";
import { cpuShares, cpuSnapshot, type CpuShares } from "./cpu-sampler.ts";
import { drawEventMix } from "./draw-event-mix.ts";
import { queueEventMix } from "./queue-event-mix.ts";
import { forkedWorker, inProcessWorker, type WorkerHandle } from "./worker-handle.ts";

export interface WorkerBenchOptions {
  events: number;
  workers: number;
  concurrency: number;
  /** Events per transaction (the worker's WORKER_BATCH_SIZE); the worker's default when unset. */
  batchSize?: number;
  /** Each replica in a process of its own instead of all in this one. */
  fork: boolean;
  handlers: HandlerSet;
  /** Which family's events and worker; default queue. */
  family?: BenchFamily;
  redisUrl: string;
  /** Give up when no job finishes for this long. */
  stallTimeoutMs?: number;
}

export interface WorkerBenchResult {
  options: WorkerBenchOptions;
  enqueuePerSecond: number;
  drainSeconds: number;
  eventsPerSecond: number;
  jobMsP50: number;
  jobMsP99: number;
  mailsSent: number;
  /** `bench` includes the forked replicas. */
  cpu: CpuShares;
  /** Empty when every check passed. */
  problems: string[];
}

const POLL_MS = 100;
const ENQUEUE_BATCH = 2_000;

/** What a run pre-fills: the events, the rows seeded before them, what the check expects. */
interface BenchMix {
  events: Envelope[];
  seed(db: Kysely<Database>): Promise<void>;
  /** The admissions the queue's real handlers must have written. */
  admitted?: number;
}

async function inChunks<T>(items: readonly T[], write: (chunk: T[]) => Promise<unknown>) {
  for (let start = 0; start < items.length; start += 1_000) {
    await write(items.slice(start, start + 1_000));
  }
}

function benchMix(family: BenchFamily, total: number): BenchMix {
  if (family === "consumer") {
    const mix = consumerEventMix(total);
    // Every tenth consumer was admitted before they signed in: the email their sign-in brings
    // makes a "You're in!" mail owed, which the consumer worker queues and sends.
    const admitted = mix.consumerIds.filter((_, index) => index % 10 === 0);
    return {
      events: mix.events,
      seed: (db) =>
        inChunks(admitted, (chunk) =>
          db
            .insertInto("admissions")
            .values(
              chunk.map((consumerId) => ({
                experience_id: "exp_bench",
                consumer_id: consumerId,
                token: `adm_tok_${consumerId}`,
                expires_at: new Date(Date.now() + 3_600_000),
                status: "active",
              })),
            )
            .execute(),
        ),
    };
  }
  if (family === "draw") {
    const mix = drawEventMix(total);
    // Every entrant signed in with an email before the draw: each winner whose selection applies
    // before their claim or expiry is mailed the claim link.
    return {
      events: mix.events,
      seed: (db) =>
        inChunks(mix.consumerIds, (chunk) =>
          db
            .insertInto("consumers")
            .values(
              chunk.map((consumerId) => ({
                id: consumerId,
                email: `${consumerId}@example.test`,
                email_observed_at: new Date(),
              })),
            )
            .execute(),
        ),
    };
  }
  const mix = queueEventMix(total);
  return {
    events: mix.events,
    admitted: mix.admitted,
    seed: (db) =>
      inChunks(mix.consumers, (chunk) =>
        db
          .insertInto("consumers")
          .values(
            chunk.map((consumer) => ({
              id: consumer.id,
              email: consumer.email,
              email_observed_at: consumer.email === null ? null : new Date(),
            })),
          )
          .execute(),
      ),
  };
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

export async function runWorkerBench(options: WorkerBenchOptions): Promise<WorkerBenchResult> {
  const { events: total, handlers, redisUrl } = options;
  const family = options.family ?? "queue";
  const database = await createTestDatabase("bench_workers");
  const smtp = await startSmtpCatcher();
  const prefix = uniquePrefix("bench-workers");
  const producerConnection = createProducerConnection(redisUrl);
  const producer = new EventProducer({ connection: producerConnection, prefix });
  const replicas: WorkerHandle[] = [];
  try {
    await producer.waitUntilReady();
    const queue = producer.queues.get(familyQueueNames[family]);
    if (queue === undefined) throw new Error(`no ${familyQueueNames[family]}`);

    const mix = benchMix(family, total);
    await mix.seed(database.db);
    const enqueueStart = performance.now();
    for (let start = 0; start < mix.events.length; start += ENQUEUE_BATCH) {
      await Promise.all(
        mix.events.slice(start, start + ENQUEUE_BATCH).map((event) => producer.enqueue(event)),
      );
    }
    const enqueueSeconds = (performance.now() - enqueueStart) / 1000;

    const config = {
      databaseUrl: database.url,
      redisUrl,
      prefix,
      smtpUrl: smtp.url,
      concurrency: options.concurrency,
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      handlers,
      family,
    };
    for (let index = 0; index < options.workers; index += 1) {
      replicas.push(await (options.fork ? forkedWorker(config) : inProcessWorker(config)));
    }

    const cpuStart = await cpuSnapshot();
    const drainStart = performance.now();
    for (const replica of replicas) replica.start();
    let finished = 0;
    let lastProgress = performance.now();
    while (finished < total) {
      await sleep(POLL_MS);
      const counts = await queue.getJobCounts("completed", "failed");
      const now = (counts.completed ?? 0) + (counts.failed ?? 0);
      if (now > finished) lastProgress = performance.now();
      finished = now;
      if (performance.now() - lastProgress > (options.stallTimeoutMs ?? 60_000)) {
        throw new Error(`stalled at ${String(finished)}/${String(total)} jobs`);
      }
    }
    const drainSeconds = (performance.now() - drainStart) / 1000;
    const backends = await sql<{ pid: number }>`
      SELECT pid FROM pg_stat_activity
      WHERE datname = current_database() OR backend_type <> 'client backend'`.execute(database.db);
    const cpu = cpuShares(
      cpuStart,
      await cpuSnapshot(),
      new Set(backends.rows.map((row) => row.pid)),
    );
    const reports = [];
    for (const replica of replicas.splice(0)) reports.push(await replica.stop());
    for (const report of reports) {
      cpu.bench += report.cpuSeconds / drainSeconds;
      cpu.benchSystem += report.systemSeconds / drainSeconds;
    }

    const problems = await checkRun({
      db: database.db,
      queue,
      total,
      admitted: handlers === "domain" ? mix.admitted : undefined,
      mailsReceived: smtp.mails.length,
    });
    const durations = reports.flatMap((report) => report.durations).sort((a, b) => a - b);
    return {
      options,
      enqueuePerSecond: total / enqueueSeconds,
      drainSeconds,
      eventsPerSecond: total / drainSeconds,
      jobMsP50: percentile(durations, 0.5),
      jobMsP99: percentile(durations, 0.99),
      mailsSent: smtp.mails.length,
      cpu,
      problems,
    };
  } finally {
    for (const replica of replicas) await replica.abort();
    await producer.close();
    await deleteKeys(producerConnection, prefix);
    await producerConnection.quit();
    await smtp.stop();
    await database.drop();
  }
}
