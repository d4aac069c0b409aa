import type { Database } from "@fanfare-relay/db/schema";
import { families, type Family } from "@fanfare-relay/events/families";
import { buildApp } from "@fanfare-relay/ingest/app";
import { createLogger } from "@fanfare-relay/logging/logger";
import { EventProducer } from "@fanfare-relay/queues/producer";
import {
  createProducerConnection,
  createWorkerConnection,
} from "@fanfare-relay/queues/redis-connection";
import type { RedisTarget } from "@fanfare-relay/queues/redis-target";
import { deleteKeys, testRedisUrl, uniquePrefix } from "@fanfare-relay/testing/redis";
import { createWorker, type FamilyWorker } from "@fanfare-relay/worker/create-worker";
import type { HandlerMap } from "@fanfare-relay/worker/handler";
import { createMailer } from "@fanfare-relay/worker/mailer";
import { auctionHandlers } from "@fanfare-relay/worker-auction/handlers";
import { consumerHandlers } from "@fanfare-relay/worker-consumer/handlers";
import { drawHandlers } from "@fanfare-relay/worker-draw/handlers";
import { experienceHandlers } from "@fanfare-relay/worker-experience/handlers";
import { queueHandlers } from "@fanfare-relay/worker-queue/handlers";
import type { Job } from "bullmq";
import { Redis } from "ioredis";
import type { Kysely } from "kysely";
import type { AddressInfo } from "node:net";

export const SECRET = "whsec_cli_test_0123456789abcdef";

export interface Ingest {
  url: string;
  prefix: string;
  producer: EventProducer;
  /** The job an event became, in its family's queue. */
  job(queueName: string, jobId: string): Promise<Job | undefined>;
  /** Jobs in the queue, in any state. */
  jobCount(queueName: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * The real ingest app listening on a free port, on real Redis under a key prefix of its own:
 * the test Redis, or `redis` (e.g. a test's own Redis Cluster).
 */
export async function startIngest(label: string, redis?: RedisTarget): Promise<Ingest> {
  const prefix = uniquePrefix(label);
  const connection = createProducerConnection(redis ?? testRedisUrl);
  const producer = new EventProducer({ connection, prefix });
  await producer.waitUntilReady();
  const app = buildApp({
    secrets: [SECRET],
    toleranceSeconds: 300,
    bodyLimitBytes: 1024 * 1024,
    enqueueTimeoutMs: 2_000,
    producer,
    redis: connection,
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const queue = (name: string) => {
    const found = producer.queues.get(name as never);
    if (found === undefined) throw new Error(`no queue ${name}`);
    return found;
  };
  return {
    url: `http://127.0.0.1:${port}/webhooks/fanfare`,
    prefix,
    producer,
    job: (queueName, jobId) => queue(queueName).getJob(jobId),
    jobCount: (queueName) =>
      queue(queueName).getJobCountByTypes(
        "waiting",
        "active",
        "completed",
        "failed",
        "delayed",
        "prioritized",
      ),
    async close() {
      await app.close();
      // A test's own Redis is thrown away whole.
      if (connection instanceof Redis) await deleteKeys(connection, prefix);
      await producer.close();
      await connection.quit();
    },
  };
}

const handlersOf: { [F in Family]: HandlerMap<F> } = {
  queue: queueHandlers,
  draw: drawHandlers,
  auction: auctionHandlers,
  experience: experienceHandlers,
  consumer: consumerHandlers,
};

export interface Workers {
  workers: FamilyWorker[];
  close(): Promise<void>;
}

/** The five family workers, in-process, as their apps wire them, on one database. */
export async function startWorkers(options: {
  db: Kysely<Database>;
  prefix: string;
  smtpUrl: string;
  /** Where Redis is; default the test Redis. */
  redis?: RedisTarget;
}): Promise<Workers> {
  const mailer = createMailer({ smtpUrl: options.smtpUrl, from: "Shop <no-reply@shop.test>" });
  const logger = createLogger("cli-simulate-test", "silent");
  const started = families.map((family) => {
    const connection = createWorkerConnection(options.redis ?? testRedisUrl);
    const worker = createWorker({
      family,
      handlers: handlersOf[family] as HandlerMap<typeof family>,
      db: options.db,
      connection,
      prefix: options.prefix,
      mailer,
      logger,
      concurrency: 4,
      retryTimeScale: 0.00005,
      messageIdDomain: "shop.test",
      shopUrl: "https://shop.test",
      redriveIntervalMs: 0,
    });
    worker.start();
    return { worker, connection };
  });
  await Promise.all(started.map(({ worker }) => worker.waitUntilReady()));
  return {
    workers: started.map(({ worker }) => worker),
    async close() {
      await Promise.all(started.map(({ worker }) => worker.close()));
      await Promise.all(started.map(({ connection }) => connection.quit()));
      mailer.close();
    },
  };
}
