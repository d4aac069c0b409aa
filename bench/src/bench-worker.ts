// One worker-queue (worker-consumer, worker-draw) replica wired as its app wires it: its own database pool,
// Redis connection and SMTP pool.
import { connect } from "@fanfare-relay/db/connect";
import { createLogger } from "@fanfare-relay/logging/logger";
import { createWorkerConnection } from "@fanfare-relay/queues/redis-connection";
import { createWorker } from "@fanfare-relay/worker/create-worker";
import type { HandlerMap } from "@fanfare-relay/worker/handler";
import { createMailer } from "@fanfare-relay/worker/mailer";
import { queueHandlers } from "@fanfare-relay/worker-queue/handlers";
import { sql } from "kysely";
import { pino } from "pino";
import { consumerHandlers } from "@fanfare-relay/worker-consumer/handlers";
// By path: bench/package.json does not list @fanfare-relay/worker-draw among its dependencies.
import { drawHandlers } from "@fanfare-relay/worker-draw/handlers";
import { noopConsumerHandlers, noopDrawHandlers, noopQueueHandlers } from "./noop-handlers.ts";

export type HandlerSet = "domain" | "noop";

/** The families the worker benchmarks can drain. */
export type BenchFamily = "queue" | "consumer" | "draw";

export interface BenchWorkerConfig {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  smtpUrl: string;
  concurrency: number;
  batchSize?: number;
  handlers: HandlerSet;
  /** Default queue. */
  family?: BenchFamily;
}

export interface BenchWorker {
  start(): void;
  /** processedOn → finishedOn of each completed job, as BullMQ records them (whole ms). */
  readonly durations: number[];
  close(): Promise<void>;
}

const queueSets: Record<HandlerSet, HandlerMap<"queue">> = {
  domain: queueHandlers,
  noop: noopQueueHandlers,
};
const consumerSets: Record<HandlerSet, HandlerMap<"consumer">> = {
  domain: consumerHandlers,
  noop: noopConsumerHandlers,
};
const drawSets: Record<HandlerSet, HandlerMap<"draw">> = {
  domain: drawHandlers,
  noop: noopDrawHandlers,
};

/** Resolves with the worker connected and warmed up, but not taking jobs until start(). */
export async function startBenchWorker(config: BenchWorkerConfig): Promise<BenchWorker> {
  const { concurrency } = config;
  // The pool size run-worker-app uses by default.
  const db = connect({ connectionString: config.databaseUrl, max: Math.min(concurrency + 2, 10) });
  const connection = createWorkerConnection(config.redisUrl);
  const mailer = createMailer({ smtpUrl: config.smtpUrl, from: "Shop <no-reply@shop.test>" });
  const family = config.family ?? "queue";
  const deps = {
    db,
    connection,
    prefix: config.prefix,
    mailer,
    // At the default level nothing is logged per job; /dev/null so the disk is not measured.
    logger: createLogger(
      `worker-${family}`,
      "info",
      pino.destination({ dest: "/dev/null", sync: false }),
    ),
    concurrency,
    ...(config.batchSize === undefined ? {} : { batchSize: config.batchSize }),
    messageIdDomain: "shop.test",
    shopUrl: "https://shop.test",
    redriveIntervalMs: 0,
  };
  const worker =
    family === "consumer"
      ? createWorker({ ...deps, family, handlers: consumerSets[config.handlers] })
      : family === "draw"
        ? createWorker({ ...deps, family, handlers: drawSets[config.handlers] })
        : createWorker({ ...deps, family, handlers: queueSets[config.handlers] });
  const durations: number[] = [];
  worker.worker.on("completed", (job) => {
    if (job.finishedOn !== undefined && job.processedOn !== undefined) {
      durations.push(job.finishedOn - job.processedOn);
    }
  });
  // Connections open before the clock starts, as in a worker that has been running a while.
  await worker.waitUntilReady();
  await Promise.all(
    Array.from({ length: Math.min(concurrency + 2, 10) }, () => sql`SELECT 1`.execute(db)),
  );
  return {
    start: () => {
      worker.start();
    },
    durations,
    async close() {
      await worker.close();
      mailer.close();
      await db.destroy();
      await connection.quit();
    },
  };
}
