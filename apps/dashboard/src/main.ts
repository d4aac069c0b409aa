import { connect } from "@fanfare-relay/db/connect";
import { logConnectionOutages } from "@fanfare-relay/logging/connection-outages";
import { routeConsoleToLogger } from "@fanfare-relay/logging/console-to-logger";
import { onGracefulShutdown } from "@fanfare-relay/logging/graceful-shutdown";
import { createLogger } from "@fanfare-relay/logging/logger";
import { redisTargetOf } from "@fanfare-relay/config/redis-env";
import { createProducerConnection } from "@fanfare-relay/queues/redis-connection";
import { checkRedisModeWhenReady } from "@fanfare-relay/queues/redis-mode-check";
import { describeRedisTarget } from "@fanfare-relay/queues/redis-target";
import { setTimeout as sleep } from "node:timers/promises";
import { buildApp } from "./app.ts";
import { ConfigError, loadEnv } from "./env.ts";

function readEnv() {
  try {
    return loadEnv();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

const REDIS_WAIT_MS = 5_000;

const env = readEnv();
const logger = createLogger("dashboard", env.LOG_LEVEL);
// BullMQ prints its eviction-policy warning with console.warn, once per connection: keep every
// line on stdout JSON.
routeConsoleToLogger(logger);

if (env.DASHBOARD_DEMO) {
  logger.warn(
    { demoDefaults: env.demoDefaults },
    "DASHBOARD_DEMO=true: demo users (password = user name) and/or a random session secret (sessions end at restart); never expose this dashboard",
  );
}

const redisTarget = redisTargetOf(env);
const redis = createProducerConnection(redisTarget);
// A REDIS_URL at one node of a cluster would answer MOVED for most queues: stop and say why.
checkRedisModeWhenReady(redis, redisTarget, (problem) => {
  logger.fatal({ redis: describeRedisTarget(redisTarget) }, problem);
  process.exit(1);
});
logConnectionOutages(redis, logger, "redis");

const db = env.DATABASE_URL
  ? connect({
      connectionString: env.DATABASE_URL,
      max: 4,
      onError: (error) => {
        logger.warn({ err: error }, "database connection lost");
      },
    })
  : undefined;

const app = await buildApp({
  redis,
  prefix: env.REDIS_PREFIX,
  db,
  users: env.users,
  sessionSecret: env.sessionSecret,
  sessionTtlSeconds: env.DASHBOARD_SESSION_TTL_SECONDS,
  secureCookie: env.DASHBOARD_SECURE_COOKIE,
  trustProxy: env.TRUST_PROXY,
  loginMaxFailures: env.DASHBOARD_LOGIN_MAX_FAILURES,
  loginWindowMs: env.DASHBOARD_LOGIN_WINDOW_SECONDS * 1000,
  demo: env.DASHBOARD_DEMO,
  basePath: env.DASHBOARD_BASE_PATH,
  logger,
});

app.addHook("onClose", async () => {
  await db?.destroy();
  await redis.quit().catch(() => undefined);
});

// The first SIGTERM/SIGINT drains (requests meanwhile get 503 DASHBOARD_UNAVAILABLE); a repeated
// SIGTERM, as supervisors signalling the process group send, does not cut the drain short.
onGracefulShutdown({ logger, timeoutMs: env.SHUTDOWN_TIMEOUT_MS }, async ({ signal, err }) => {
  if (err) logger.error({ err }, "shutting down after an unexpected error");
  else logger.info({ signal }, "shutting down");
  await app.close();
  logger.info("dashboard stopped");
});

// Logins are counted in Redis: give the connection a moment so that the first ones are not
// refused; a Redis that is down at start only means /healthz fails until it is back.
// Not events.once: it rejects on the connection's first `error` (ECONNREFUSED while Redis is
// down), which stopped the dashboard instead of starting it.
const redisReady = await Promise.race([
  new Promise<boolean>((resolve) => {
    redis.once("ready", () => {
      resolve(true);
    });
  }),
  sleep(REDIS_WAIT_MS, false, { ref: false }),
]);
if (!redisReady)
  logger.warn("redis not reachable yet; starting anyway, /healthz fails until it is");

try {
  await app.listen({ port: env.PORT, host: env.HOST });
  logger.info(
    {
      redis: describeRedisTarget(redisTarget),
      redisMode: redisTarget.mode,
      prefix: env.REDIS_PREFIX,
      deadLetters: db ? "enabled" : "disabled (no DATABASE_URL)",
      users: env.users.map((user) => ({ user: user.username, role: user.role })),
      secureCookie: env.DASHBOARD_SECURE_COOKIE,
      basePath: env.DASHBOARD_BASE_PATH,
    },
    "dashboard ready",
  );
} catch (error) {
  logger.fatal({ err: error }, "dashboard could not start");
  process.exit(1);
}
