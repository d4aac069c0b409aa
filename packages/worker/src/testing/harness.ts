import type { Database } from "@fanfare-relay/db/schema";
import { fixtureEvents } from "@fanfare-relay/events/fixtures";
import type { Envelope } from "@fanfare-relay/events/envelope";
import { familyQueueNames, type Family } from "@fanfare-relay/events/families";
import type { EventType } from "@fanfare-relay/events/catalogue";
import { createLogger, type Logger } from "@fanfare-relay/logging/logger";
import { EventProducer } from "@fanfare-relay/queues/producer";
import {
  createProducerConnection,
  createWorkerConnection,
} from "@fanfare-relay/queues/redis-connection";
import type { RedisTarget } from "@fanfare-relay/queues/redis-target";
import { createTestDatabase, type TestDatabase } from "@fanfare-relay/testing/postgres";
import { deleteKeys, testRedisUrl, uniquePrefix } from "@fanfare-relay/testing/redis";
import { startSmtpCatcher, type SmtpCatcher } from "@fanfare-relay/testing/smtp-catcher";
import type { Job } from "bullmq";
import { Redis } from "ioredis";
import type { Kysely } from "kysely";
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { createWorker, type FamilyWorker, type WorkerDeps } from "../create-worker.ts";
import type { HandlerMap } from "../handler.ts";
import { createMailer, type Mailer } from "../mailer.ts";

export type HarnessOverrides<F extends Family> = Partial<
  Omit<WorkerDeps<F>, "family" | "handlers" | "db" | "connection" | "prefix" | "mailer">
>;

/** A family and its handlers, e.g. `{ family: "consumer", handlers: consumerHandlers }`. */
export type FamilyHandlers = {
  [F in Family]: { family: F; handlers: HandlerMap<F> };
}[Family];

export interface HarnessOptions {
  /**
   * More families whose workers run next to the first one, on the same database, Redis prefix,
   * mail catcher and overrides: for facts that cross families (a consumer's email and their
   * admission). `deliver` routes each event to its family's queue.
   */
  alongside?: readonly FamilyHandlers[];
  /**
   * Where Redis is (e.g. a test's own Redis Cluster); default the test Redis at REDIS_URL. Keys
   * are deleted on close only on the default one (a test's own Redis is thrown away whole).
   */
  redis?: RedisTarget;
}

export interface WorkerHarness {
  db: Kysely<Database>;
  databaseUrl: string;
  smtp: SmtpCatcher;
  producer: EventProducer;
  /** The first family's worker. */
  worker: FamilyWorker;
  /** Every family's worker, the first one included. */
  workers: FamilyWorker[];
  prefix: string;
  /** Lines the worker logged, parsed. */
  logs: Record<string, unknown>[];
  /** Enqueues like the ingest does and resolves when the job is completed or finally failed. */
  deliver(event: Envelope): Promise<Job>;
  /** Resolves when the job with this id (on any of the harness's queues) is completed or has failed for good. */
  settled(jobId: string): Promise<Job>;
  close(): Promise<void>;
}

/** A debug-level logger whose lines are kept, parsed, in `logs` (for assertions on log lines). */
export function capturingLogger(service: string): {
  logger: Logger;
  logs: Record<string, unknown>[];
} {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger(
    service,
    "debug",
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString().split("\n")) {
          if (line.trim() !== "") logs.push(JSON.parse(line) as Record<string, unknown>);
        }
        callback();
      },
    }),
  );
  return { logger, logs };
}

/** Milliseconds-long retry schedule (1 min → 3 ms … 8 h → 1.44 s) for tests. */
export const TEST_TIME_SCALE = 0.00005;

/**
 * A worker with real PostgreSQL, Redis and SMTP, as its app would run it, on fast timings; with
 * `options.alongside`, the workers of other families on the same database and mail catcher.
 */
export async function createWorkerHarness<F extends Family>(
  family: F,
  handlers: HandlerMap<F>,
  overrides: HarnessOverrides<F> = {},
  options: HarnessOptions = {},
): Promise<WorkerHarness> {
  const database: TestDatabase = await createTestDatabase(family);
  const smtp = await startSmtpCatcher();
  const prefix = uniquePrefix(`worker-${family}`);
  const target = options.redis ?? testRedisUrl;
  const producerConnection = createProducerConnection(target);
  const connection = createWorkerConnection(target);
  const producer = new EventProducer({ connection: producerConnection, prefix });
  await producer.waitUntilReady();
  const mailer: Mailer = createMailer({ smtpUrl: smtp.url, from: "Shop <no-reply@shop.test>" });
  const { logger, logs } = capturingLogger(`worker-${family}`);
  const families = [{ family, handlers }, ...(options.alongside ?? [])] as {
    family: F;
    handlers: HandlerMap<F>;
  }[];
  const workers = families.map((spec) =>
    createWorker({
      ...spec,
      db: database.db,
      connection,
      prefix,
      mailer,
      logger,
      concurrency: 8,
      retryTimeScale: TEST_TIME_SCALE,
      messageIdDomain: "shop.test",
      shopUrl: "https://shop.test",
      redriveIntervalMs: 0,
      ...overrides,
    }),
  );
  const [worker] = workers;
  if (worker === undefined) throw new Error("no worker");

  const queues = families.map(({ family: name }) => {
    const queue = producer.queues.get(familyQueueNames[name]);
    if (queue === undefined) throw new Error(`no queue for ${name}`);
    return queue;
  });
  const waiting = new Map<string, ((job: Job) => void)[]>();
  // Woken by the workers' events, decided by the job's state in Redis: a failed attempt that
  // will be retried is "delayed", not "failed".
  const check = async (jobId: string | undefined) => {
    if (jobId === undefined || !waiting.has(jobId)) return;
    for (const queue of queues) {
      const job = await queue.getJob(jobId);
      if (job === undefined) continue;
      const state = await job.getState();
      if (state !== "completed" && state !== "failed") return;
      for (const resolve of waiting.get(jobId) ?? []) resolve(job);
      waiting.delete(jobId);
      return;
    }
  };
  for (const { worker: bullWorker } of workers) {
    bullWorker.on("completed", (job) => void check(job.id));
    bullWorker.on("failed", (job) => void check(job?.id));
  }
  for (const started of workers) started.start();

  const settled = (jobId: string) =>
    new Promise<Job>((resolve) => {
      waiting.set(jobId, [...(waiting.get(jobId) ?? []), resolve]);
      // It may have finished before we started listening.
      void check(jobId);
    });

  return {
    db: database.db,
    databaseUrl: database.url,
    smtp,
    producer,
    worker,
    workers,
    prefix,
    logs,
    async deliver(event) {
      const result = await producer.enqueue(event);
      return settled(result.jobId);
    },
    settled,
    async close() {
      for (const started of workers) await started.close();
      await producer.close();
      mailer.close();
      await smtp.stop();
      if (producerConnection instanceof Redis) await deleteKeys(producerConnection, prefix);
      await producerConnection.quit();
      await connection.quit();
      await database.drop();
    },
  };
}

/** The fixture of a type as a template: a fresh id, `created` now, and data overrides. */
export function sampleEvent(
  type: EventType,
  data: Record<string, unknown> = {},
  envelope: Partial<Envelope> = {},
): Envelope {
  const fixture = fixtureEvents.find((event) => event.type === type);
  if (fixture === undefined) throw new Error(`no fixture for ${type}`);
  return {
    ...fixture,
    id: `evt_${randomUUID()}`,
    created: Math.floor(Date.now() / 1000),
    ...envelope,
    data: { ...fixture.data, ...data },
  };
}

/** An ISO instant `minutes` from now (negative for the past). */
export const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
