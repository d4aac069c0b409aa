import { connect } from "@fanfare-relay/db/connect";
import { migrateToLatest } from "@fanfare-relay/db/migrate";
import { startPgliteHost } from "@fanfare-relay/db/pglite-host";
import type { Family } from "@fanfare-relay/events/families";
import { logConnectionOutages } from "@fanfare-relay/logging/connection-outages";
import { routeConsoleToLogger } from "@fanfare-relay/logging/console-to-logger";
import { onGracefulShutdown } from "@fanfare-relay/logging/graceful-shutdown";
import { createLogger, type Logger } from "@fanfare-relay/logging/logger";
import {
  EvictionPolicyWatch,
  type EvictionPolicyState,
} from "@fanfare-relay/queues/eviction-policy";
import { redisTargetOf } from "@fanfare-relay/config/redis-env";
import { createWorkerConnection } from "@fanfare-relay/queues/redis-connection";
import { checkRedisModeWhenReady } from "@fanfare-relay/queues/redis-mode-check";
import { describeRedisTarget } from "@fanfare-relay/queues/redis-target";
import { sql } from "kysely";
import { setTimeout as sleep } from "node:timers/promises";
import { createWorker } from "./create-worker.ts";
import {
  DatabaseWatch,
  redactDatabaseUrl,
  type DatabaseProblem,
  type DatabaseState,
} from "./database-readiness.ts";
import type { HandlerMap } from "./handler.ts";
import { buildHealthServer } from "./health-server.ts";
import { JobIntake } from "./job-intake.ts";
import { createMailer, domainOf } from "./mailer.ts";
import type { WorkerEnv } from "./worker-env.ts";
import { evictionPolicyMessage, readinessProblems, stalledProblem } from "./worker-readiness.ts";

export interface WorkerAppOptions<F extends Family> {
  family: F;
  handlers: HandlerMap<F>;
  env: WorkerEnv;
}

/** How long a stalled worker's close may take before the process exits anyway, ms. */
const STALLED_CLOSE_WAIT_MS = 2_000;

class WorkerStalledError extends Error {
  constructor() {
    super("the worker stopped taking jobs");
    this.name = "WorkerStalledError";
  }
}

/** A database check that takes longer than this counts as unreachable (a firewall that drops). */
const DATABASE_CHECK_TIMEOUT_MS = 5_000;

/**
 * Logs the database's outages: one `error` line when one starts (alerts fire on it) and one
 * `info` line when it ends. An outage is counted here, from what was logged, not from the codes
 * of the checks: a server going away fails several checks at once with different codes (its open
 * connections reset, `ECONNRESET` or "Connection terminated", then new ones refused,
 * `ECONNREFUSED`), and none of them may start an outage of its own. Calls must be serialized (the caller's `applying` chain).
 */
function databaseOutageLog(logger: Logger, database: string) {
  let down = false;
  return {
    unreachable({ code, reason, hint }: DatabaseProblem) {
      if (down) return;
      down = true;
      logger.error(
        { database, code, reason },
        `database unreachable: ${reason} (${code}); ${hint}. Not taking jobs until it answers`,
      );
    },
    /** Call once jobs are taken again: "taking jobs" must be true when it is read. */
    reachable() {
      if (!down) return;
      down = false;
      logger.info({ database }, "database reachable again; taking jobs");
    },
  };
}

/** `afterStart`: the start line is out, so a first reading now ends a wait it may have named. */
function logEvictionChange(
  logger: Logger,
  state: EvictionPolicyState,
  previous: EvictionPolicyState["status"],
  afterStart: boolean,
) {
  if (state.status === "unsafe" && !state.allowed) {
    logger.error(
      { code: "WORKER_REDIS_EVICTION_POLICY", maxmemoryPolicy: state.policy },
      evictionPolicyMessage(state.policy),
    );
  } else if (state.status === "unsafe") {
    logger.warn(
      { maxmemoryPolicy: state.policy },
      `Redis maxmemory-policy is ${state.policy}, allowed by REDIS_ALLOW_EVICTION=true: Redis may evict queued jobs`,
    );
  } else if (state.status === "safe" && previous === "unsafe") {
    logger.info({ maxmemoryPolicy: state.policy }, "Redis maxmemory-policy is noeviction again");
  } else if (state.status === "safe" && afterStart) {
    logger.info({ maxmemoryPolicy: state.policy }, "Redis maxmemory-policy read: noeviction");
  }
}

/**
 * What every worker app's main.ts does: wire real dependencies, start, stop cleanly.
 *
 * The process starts even when PostgreSQL is unreachable: it says why in one log line, answers
 * `/readyz` 503 with the reason, takes no jobs (they wait in Redis, keeping their attempts) and
 * checks again every `READINESS_CHECK_INTERVAL_MS`; it logs once when the database is back and
 * takes jobs again. Redis's `maxmemory-policy` is checked the same way; `/readyz` fails while it
 * may evict or has not been read yet (unless `REDIS_ALLOW_EVICTION=true`). The start line says
 * `<service> ready` only when `/readyz` would answer 200 then, else `started but not ready: <why>`. The first SIGTERM or
 * SIGINT drains (no new jobs, jobs in progress finish, exit 0); repeated SIGTERMs are ignored.
 */
export async function runWorkerApp<F extends Family>({
  family,
  handlers,
  env,
}: WorkerAppOptions<F>): Promise<void> {
  const service = `worker-${family}`;
  const logger = createLogger(service, env.LOG_LEVEL);
  // BullMQ prints its eviction-policy warning with console.warn, once per connection: keep every
  // line on stdout JSON.
  routeConsoleToLogger(logger);

  // No DATABASE_URL: embedded PostgreSQL in this process, for local use by one process.
  const pglite =
    env.DATABASE_URL === undefined
      ? await startPgliteHost({ dataDir: env.PGLITE_DATA_DIR, port: 0 })
      : undefined;
  const databaseUrl = env.DATABASE_URL ?? pglite?.url ?? "";
  const database =
    pglite === undefined ? redactDatabaseUrl(databaseUrl) : `pglite (${env.PGLITE_DATA_DIR})`;
  const db = connect({
    connectionString: databaseUrl,
    // A batch holds one connection for its transaction and a second while its mail goes out;
    // a few batches are in flight at once, next to the readiness checks and the reconciliation.
    max: env.DATABASE_POOL_SIZE ?? Math.min(env.WORKER_CONCURRENCY + 2, 10),
    onError: (error) => {
      logger.warn({ err: error }, "idle database connection lost");
      // Check now rather than at the next tick: the server may have gone away.
      void databaseCheck.check();
    },
  });

  const redisTarget = redisTargetOf(env);
  const connection = createWorkerConnection(redisTarget);
  logConnectionOutages(connection, logger, "redis");
  // A REDIS_URL at one node of a cluster would answer MOVED for most queues: stop and say why.
  checkRedisModeWhenReady(connection, redisTarget, (problem) => {
    logger.fatal({ redis: describeRedisTarget(redisTarget) }, problem);
    process.exit(1);
  });

  const mailer = createMailer({ smtpUrl: env.SMTP_URL, from: env.MAIL_FROM });
  let shuttingDown = false;
  // What the intake was last told (take or pause), not BullMQ's state: a loop that hung or
  // paused by itself while jobs are wanted is exactly what the fetch watchdog looks for.
  let wantJobs = false;
  const worker = createWorker({
    family,
    handlers,
    db,
    connection,
    prefix: env.REDIS_PREFIX,
    mailer,
    logger,
    concurrency: env.WORKER_CONCURRENCY,
    batchSize: env.WORKER_BATCH_SIZE,
    batchWaitMs: env.WORKER_BATCH_WAIT_MS,
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
    reconcileIntervalMs: env.DEAD_LETTER_RECONCILE_INTERVAL_SECONDS * 1000,
    stallAfterMs: env.WORKER_STALL_TIMEOUT_SECONDS * 1000,
    takingJobs: () => wantJobs && !shuttingDown,
    onStall: () => {
      // The alert line is logged; /healthz and /readyz answer WORKER_STALLED from now on (see
      // isStalled). An uncaught error is how the graceful shutdown is started with exit code 1:
      // the supervisor then starts a fresh process with fresh Redis clients.
      setImmediate(() => {
        throw new WorkerStalledError();
      });
    },
  });
  const intake = new JobIntake({
    worker: worker.worker,
    start: () => {
      worker.start();
    },
    wake: async () => {
      const marker = worker.worker.keys.marker;
      if (marker !== undefined) await connection.zadd(marker, 0, "0");
    },
  });

  let migrated = !(env.MIGRATE_ON_START || pglite !== undefined);
  // The start line, logged once listening: "<service> ready" only when /readyz would answer 200
  // at that moment; otherwise "started but not ready" with the reasons /readyz gives. A worker
  // that started without its database says it again (ready or not) once it takes jobs.
  let announced = false;
  let listening = false;
  const announceStart = () => {
    announced = intake.started;
    const fields = {
      queue: worker.queueName,
      concurrency: env.WORKER_CONCURRENCY,
      batchSize: env.WORKER_BATCH_SIZE,
      redis: describeRedisTarget(redisTarget),
      redisMode: redisTarget.mode,
      database,
      healthPort: env.PORT,
    };
    const problems = currentReadinessProblems();
    // The database's reason was just logged as its outage's one `error` line (alerts count
    // those): not repeated here. Not taking jobs with the database reachable means pending
    // migrations failed, also logged already.
    const reasons = problems
      .filter((problem) => problem.code !== "WORKER_DATABASE_UNAVAILABLE")
      .map((problem) => problem.message);
    if (!intake.started || problems.length > reasons.length) {
      reasons.unshift("waiting for the database");
    }
    if (reasons.length === 0) {
      logger.info(fields, `${service} ready`);
      return;
    }
    logger.warn(
      { ...fields, codes: problems.map((problem) => problem.code) },
      `${service} started but not ready: ${reasons.join("; ")}` +
        (problems.length > 0 ? "; /readyz answers 503" : ""),
    );
  };

  // Runs after every database check, one at a time: jobs are taken only while the database
  // answers. The log line comes after the pause, so "not taking jobs" is true when it is read.
  const outages = databaseOutageLog(logger, database);
  let applying: Promise<void> = Promise.resolve();
  const applyDatabaseState = (state: DatabaseState) => {
    applying = applying.then(async () => {
      if (shuttingDown) return;
      if (state.status !== "reachable") {
        wantJobs = false;
        await intake.pause();
        if (state.status === "unreachable") outages.unreachable(state.problem);
        return;
      }
      if (!migrated) {
        try {
          await migrateToLatest(db);
          migrated = true;
        } catch (error) {
          logger.error({ err: error }, "migrations failed; retrying at the next check");
          return;
        }
      }
      intake.take();
      wantJobs = intake.started;
      outages.reachable();
      if (listening && !announced) announceStart();
    });
  };

  const databaseCheck = new DatabaseWatch({
    probe: async () => {
      try {
        await sql`SELECT 1`.execute(db);
      } catch {
        // An idle pooled connection that died ("Connection terminated unexpectedly") says nothing
        // about the server; a fresh one tells why it cannot be reached.
        await sql`SELECT 1`.execute(db);
      }
    },
    intervalMs: env.READINESS_CHECK_INTERVAL_MS,
    timeoutMs: DATABASE_CHECK_TIMEOUT_MS,
    onCheck: applyDatabaseState,
  });

  const evictionWatch = new EvictionPolicyWatch({
    redis: connection,
    intervalMs: env.READINESS_CHECK_INTERVAL_MS,
    allowEviction: env.REDIS_ALLOW_EVICTION,
    onChange: (() => {
      let previous: EvictionPolicyState["status"] = "unknown";
      return (state: EvictionPolicyState) => {
        logEvictionChange(logger, state, previous, listening);
        previous = state.status;
      };
    })(),
  });
  // After an outage Redis may be a different server (failover) with another policy.
  connection.on("ready", () => void evictionWatch.check());

  const currentReadinessProblems = () =>
    readinessProblems({
      shuttingDown,
      redisStatus: connection.status,
      database: databaseCheck.state,
      eviction: evictionWatch.state,
      allowEviction: env.REDIS_ALLOW_EVICTION,
      stalled: worker.isStalled(),
    });
  const health = buildHealthServer({
    isHealthy: () => !shuttingDown && connection.status === "ready" && intake.alive,
    livenessProblems: () => (worker.isStalled() ? [stalledProblem] : []),
    readinessProblems: currentReadinessProblems,
    registry: worker.metrics.registry,
  });

  onGracefulShutdown({ logger, timeoutMs: env.SHUTDOWN_TIMEOUT_MS }, async ({ signal, err }) => {
    shuttingDown = true;
    if (err instanceof WorkerStalledError) {
      // Its one `error` line (the alert) is already out.
      logger.info("shutting down: the worker stopped taking jobs; exiting 1 to be restarted");
    } else if (err) logger.error({ err }, "shutting down after an unexpected error");
    else logger.info({ signal }, "shutting down: jobs in progress finish, no new ones start");
    databaseCheck.stop();
    evictionWatch.stop();
    await applying;
    const closing = worker.close();
    // A stalled worker has no job in progress, and its BullMQ loop may never answer a close:
    // waiting for it would only hold the restart until SHUTDOWN_TIMEOUT_MS.
    await (err instanceof WorkerStalledError
      ? Promise.race([closing, sleep(STALLED_CLOSE_WAIT_MS, undefined, { ref: false })])
      : closing);
    await health.close();
    mailer.close();
    await db.destroy();
    await pglite?.stop();
    await connection.quit().catch(() => undefined);
    logger.info(`${service} stopped`);
  });

  evictionWatch.start();
  await databaseCheck.check();
  databaseCheck.start();
  await applying;
  await worker.waitUntilReady();
  // The start line must not call "ready" a Redis whose policy was not read yet: /readyz fails
  // until it is (fail closed, as the ingest), unless REDIS_ALLOW_EVICTION=true.
  await evictionWatch.check();
  if (evictionWatch.state.status === "unknown" && env.REDIS_ALLOW_EVICTION) {
    logger.warn(
      "Redis maxmemory-policy not read (neither CONFIG GET nor INFO memory answered), accepted because REDIS_ALLOW_EVICTION=true: Redis may evict queued jobs",
    );
  }
  await health.listen({ port: env.PORT, host: env.HOST });
  listening = true;
  announceStart();
}
