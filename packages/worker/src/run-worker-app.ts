import { connect } from "@fanfare-relay/db/connect";
import { migrateToLatest } from "@fanfare-relay/db/migrate";
import { startPgliteHost } from "@fanfare-relay/db/pglite-host";
import type { Family } from "@fanfare-relay/events/families";
import { logConnectionOutages } from "@fanfare-relay/logging/connection-outages";
import { createLogger } from "@fanfare-relay/logging/logger";
import { createWorkerConnection, redactRedisUrl } from "@fanfare-relay/queues/redis-connection";
import closeWithGrace from "close-with-grace";
import { createWorker } from "./create-worker.ts";
import type { HandlerMap } from "./handler.ts";
import { buildHealthServer } from "./health-server.ts";
import { createMailer, domainOf } from "./mailer.ts";
import type { WorkerEnv } from "./worker-env.ts";

export interface WorkerAppOptions<F extends Family> {
  family: F;
  handlers: HandlerMap<F>;
  env: WorkerEnv;
}

/** What every worker app's main.ts does: wire real dependencies, start, stop cleanly. */
export async function runWorkerApp<F extends Family>({
  family,
  handlers,
  env,
}: WorkerAppOptions<F>): Promise<void> {
  const service = `worker-${family}`;
  const logger = createLogger(service, env.LOG_LEVEL);

  // No DATABASE_URL: embedded PostgreSQL in this process, for local use by one process.
  const pglite =
    env.DATABASE_URL === undefined
      ? await startPgliteHost({ dataDir: env.PGLITE_DATA_DIR, port: 0 })
      : undefined;
  const db = connect({
    connectionString: env.DATABASE_URL ?? pglite?.url ?? "",
    // A job holds one connection for its transaction and may take a second to send its emails.
    max: env.DATABASE_POOL_SIZE ?? env.WORKER_CONCURRENCY + 2,
    onError: (error) => {
      logger.warn({ err: error }, "idle database connection lost");
    },
  });
  if (env.MIGRATE_ON_START || pglite !== undefined) await migrateToLatest(db);

  const connection = createWorkerConnection(env.REDIS_URL);
  logConnectionOutages(connection, logger, "redis");

  const mailer = createMailer({ smtpUrl: env.SMTP_URL, from: env.MAIL_FROM });
  const worker = createWorker({
    family,
    handlers,
    db,
    connection,
    prefix: env.REDIS_PREFIX,
    mailer,
    logger,
    concurrency: env.WORKER_CONCURRENCY,
    retryTimeScale: env.RETRY_TIME_SCALE,
    lockDurationMs: env.JOB_LOCK_DURATION_MS,
    stalledIntervalMs: env.STALLED_INTERVAL_MS,
    messageIdDomain: domainOf(env.MAIL_FROM),
    shopUrl: env.SHOP_URL,
    opsAlertEmail: env.OPS_ALERT_EMAIL,
    failureAlertThreshold: env.FAILURE_ALERT_THRESHOLD,
    failureAlertWindowMs: env.FAILURE_ALERT_WINDOW_SECONDS * 1000,
    redriveAfterMs: env.DEAD_LETTER_REDRIVE_AFTER_SECONDS * 1000,
    maxRedrives: env.DEAD_LETTER_MAX_REDRIVES,
    redriveIntervalMs: env.DEAD_LETTER_REDRIVE_INTERVAL_SECONDS * 1000,
  });
  const health = buildHealthServer({
    isHealthy: () => worker.isRunning() && connection.status === "ready",
    registry: worker.metrics.registry,
  });

  closeWithGrace({ delay: env.SHUTDOWN_TIMEOUT_MS, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, "shutting down after an unexpected error");
    else logger.info({ signal }, "shutting down: jobs in progress finish, no new ones start");
    await worker.close();
    await health.close();
    mailer.close();
    await db.destroy();
    await pglite?.stop();
    await connection.quit().catch(() => undefined);
    logger.info(`${service} stopped`);
  });

  worker.start();
  await worker.waitUntilReady();
  await health.listen({ port: env.PORT, host: env.HOST });
  logger.info(
    {
      queue: worker.queueName,
      concurrency: env.WORKER_CONCURRENCY,
      redis: redactRedisUrl(env.REDIS_URL),
      database: pglite === undefined ? "postgres" : `pglite (${env.PGLITE_DATA_DIR})`,
      healthPort: env.PORT,
    },
    `${service} ready`,
  );
}
