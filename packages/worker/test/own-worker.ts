import type { Database } from "@fanfare-relay/db/schema";
import { createWorkerConnection } from "@fanfare-relay/queues/redis-connection";
import { testRedisUrl } from "@fanfare-relay/testing/redis";
import type { Kysely } from "kysely";
import { createWorker, type FamilyWorker, type WorkerDeps } from "../src/create-worker.ts";
import { createMailer } from "../src/mailer.ts";
import { capturingLogger, TEST_TIME_SCALE, type WorkerHarness } from "../src/testing/harness.ts";
import { stubHandlers } from "./stub-handlers.ts";

export interface OwnWorker {
  worker: FamilyWorker;
  /** Lines this worker logged, parsed. */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * An experience worker on a harness's queue, SMTP catcher and prefix, with a database pool and
 * settings of the test's choosing (the harness's own worker should be closed first). Started.
 */
export function startOwnWorker(
  t: WorkerHarness,
  db: Kysely<Database>,
  overrides: Partial<WorkerDeps<"experience">> = {},
): OwnWorker {
  const connection = createWorkerConnection(testRedisUrl);
  const mailer = createMailer({ smtpUrl: t.smtp.url, from: "Shop <no-reply@shop.test>" });
  const { logger, logs } = capturingLogger("worker-experience");
  const worker = createWorker({
    family: "experience",
    handlers: stubHandlers({ failures: 0, runs: 0 }),
    db,
    connection,
    prefix: t.prefix,
    mailer,
    logger,
    concurrency: 2,
    retryTimeScale: TEST_TIME_SCALE,
    messageIdDomain: "shop.test",
    shopUrl: "https://shop.test",
    opsAlertEmail: "ops@shop.test",
    redriveIntervalMs: 0,
    ...overrides,
  });
  worker.start();
  return {
    worker,
    logs,
    async close() {
      await worker.close();
      mailer.close();
      await connection.quit();
    },
  };
}
