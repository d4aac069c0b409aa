import { logConnectionOutages } from "@fanfare-relay/logging/connection-outages";
import { routeConsoleToLogger } from "@fanfare-relay/logging/console-to-logger";
import { onGracefulShutdown } from "@fanfare-relay/logging/graceful-shutdown";
import { createLogger } from "@fanfare-relay/logging/logger";
import { redisTargetOf } from "@fanfare-relay/config/redis-env";
import { createProducerConnection } from "@fanfare-relay/queues/redis-connection";
import { checkRedisModeWhenReady } from "@fanfare-relay/queues/redis-mode-check";
import { describeRedisTarget } from "@fanfare-relay/queues/redis-target";
import { EventProducer } from "@fanfare-relay/queues/producer";
import { slotProbeKeys } from "@fanfare-relay/queues/queue-keys";
import { allQueueNames } from "@fanfare-relay/events/families";
import { setTimeout as sleep } from "node:timers/promises";
import { buildApp } from "./app.ts";
import { ConfigError, loadEnv } from "./env.ts";
import { createIngestMetrics } from "./metrics.ts";

function readEnv() {
  try {
    return loadEnv();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

const env = readEnv();
const logger = createLogger("ingest", env.LOG_LEVEL);
// BullMQ prints its own eviction-policy warning with console.warn, once per connection: keep every
// line on stdout JSON.
routeConsoleToLogger(logger);
const metrics = createIngestMetrics();

const redisTarget = redisTargetOf(env);
const redis = createProducerConnection(redisTarget);
// A REDIS_URL at one node of a cluster would answer MOVED for most queues: stop and say why.
checkRedisModeWhenReady(redis, redisTarget, (problem) => {
  logger.fatal({ redis: describeRedisTarget(redisTarget) }, problem);
  process.exit(1);
});
// One line when an outage starts, one when it ends, and a count; nothing per request meanwhile.
logConnectionOutages(redis, logger, "redis", {
  onDown: () => {
    metrics.redisOutages.inc();
  },
});

const producer = new EventProducer({
  connection: redis,
  prefix: env.REDIS_PREFIX,
  completedRetentionSeconds: env.COMPLETED_RETENTION_SECONDS,
  failedRetentionSeconds: env.FAILED_RETENTION_SECONDS,
  onError: (error, queueName) => {
    logger.debug({ err: error, queue: queueName }, "queue error");
  },
});

const app = buildApp({
  secrets: env.FANFARE_WEBHOOK_SECRETS,
  toleranceSeconds: env.SIGNATURE_TOLERANCE_SECONDS,
  bodyLimitBytes: env.BODY_LIMIT_BYTES,
  enqueueTimeoutMs: env.ENQUEUE_TIMEOUT_MS,
  trustProxy: env.TRUST_PROXY,
  allowEviction: env.REDIS_ALLOW_EVICTION,
  readinessKeys: slotProbeKeys(env.REDIS_PREFIX, allQueueNames),
  producer,
  redis,
  logger,
  metrics,
});

app.addHook("onClose", async () => {
  await producer.close();
  await redis.quit().catch(() => undefined);
});

onGracefulShutdown({ logger, timeoutMs: env.SHUTDOWN_TIMEOUT_MS }, async ({ signal, err }) => {
  if (err) logger.error({ err }, "shutting down after an unexpected error");
  else logger.info({ signal }, "shutting down: readiness now fails, in-flight requests finish");
  app.startDraining();
  // SIGTERM comes from an orchestrator: give the load balancer time to see /readyz fail.
  // SIGINT is a person at a terminal: stop now.
  if (signal === "SIGTERM") await sleep(env.SHUTDOWN_DRAIN_DELAY_MS);
  await app.close();
  logger.info("ingest stopped");
});

const REDIS_WAIT_MS = 5_000;

/** Resolves once the Redis connection is ready (at once if it is); never rejects. */
function redisReady(): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  return new Promise((resolve) => {
    redis.once("ready", () => {
      resolve();
    });
  });
}

try {
  await app.listen({ port: env.PORT, host: env.HOST });
  const settings = {
    redis: describeRedisTarget(redisTarget),
    redisMode: redisTarget.mode,
    prefix: env.REDIS_PREFIX,
    secrets: env.FANFARE_WEBHOOK_SECRETS.length,
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    toleranceSeconds: env.SIGNATURE_TOLERANCE_SECONDS,
    allowEviction: env.REDIS_ALLOW_EVICTION,
  };
  // "ready" only when deliveries are accepted: while Redis is unreachable or its maxmemory-policy
  // may evict (or is unread), every delivery is refused and /readyz fails, and the start line must
  // not say otherwise. The connection usually comes up just after the listener: wait for it a
  // moment rather than report a start-up race as a problem.
  await Promise.race([redisReady(), sleep(REDIS_WAIT_MS, undefined, { ref: false })]);
  const notReady =
    redis.status === "ready"
      ? await app.policyNotReady()
      : { status: "redis_unavailable", reason: "Redis is not reachable yet" };
  if (notReady) {
    logger.warn(
      { ...settings, status: notReady.status },
      `ingest started but not ready: ${notReady.reason}`,
    );
  } else {
    logger.info(settings, "ingest ready");
  }
} catch (error) {
  logger.fatal({ err: error }, "ingest could not start");
  process.exit(1);
}
