import {
  ConfigError,
  databaseUrl,
  flag,
  integer,
  logLevel,
  parseEnv,
  port,
} from "@fanfare-relay/config/env-fields";
import { checkRedisEnv, redisEnvFields } from "@fanfare-relay/config/redis-env";
import { z } from "zod";

export { ConfigError };

/** Settings whose defaults are `pnpm start`'s local stand-ins: required with NODE_ENV=production. */
const LOCAL_DEFAULTS = ["DATABASE_URL", "SMTP_URL", "SHOP_URL"] as const;

/** Settings every worker app shares; each app parses them once, in its own src/env.ts. */
export function workerEnvSchema(defaultPort: number) {
  return z
    .object({
      ...redisEnvFields,
      // Same name and meaning as the ingest's: the operator accepts a Redis that may evict keys.
      REDIS_ALLOW_EVICTION: flag(false),
      DATABASE_URL: databaseUrl,
      PGLITE_DATA_DIR: z.string().min(1).default(".data/pglite"),
      DATABASE_POOL_SIZE: z.coerce.number().int().min(1).optional(),
      MIGRATE_ON_START: flag(false),
      // Jobs in progress at once; batches form from them, so keep it at least the batch size.
      WORKER_CONCURRENCY: integer(1, 100),
      // Bounded by PostgreSQL's 65,535 parameters per statement (a batch's rows × columns).
      WORKER_BATCH_SIZE: integer(1, 50).pipe(z.number().max(1000)),
      WORKER_BATCH_WAIT_MS: integer(0, 5).pipe(z.number().max(10_000)),
      PORT: port(defaultPort),
      HOST: z.string().min(1).default("0.0.0.0"),
      SMTP_URL: z
        .url({ protocol: /^smtps?$/, error: "must be an smtp:// or smtps:// URL" })
        .default("smtp://127.0.0.1:1025"),
      MAIL_FROM: z.string().min(3).default("Fanfare Relay <no-reply@fanfare-relay.local>"),
      // Base of the links in mails. The default is pnpm start's demo shop (scripts/demo-shop.mjs),
      // as SMTP_URL's is its mail catcher; a deployment sets its own (docker-compose requires it).
      SHOP_URL: z.url({ protocol: /^https?$/ }).default("http://localhost:3002"),
      OPS_ALERT_EMAIL: z.email().optional(),
      FAILURE_ALERT_THRESHOLD: integer(1, 10),
      FAILURE_ALERT_WINDOW_SECONDS: integer(1, 300),
      DEAD_LETTER_REDRIVE_AFTER_SECONDS: integer(0, 3600),
      DEAD_LETTER_MAX_REDRIVES: integer(0, 3),
      DEAD_LETTER_REDRIVE_INTERVAL_SECONDS: integer(0, 300),
      DEAD_LETTER_RECONCILE_INTERVAL_SECONDS: integer(0, 60),
      RETRY_TIME_SCALE: z.coerce.number().positive().max(1).default(1),
      JOB_LOCK_DURATION_MS: integer(1_000, 30_000),
      STALLED_INTERVAL_MS: integer(1_000, 30_000),
      SHUTDOWN_TIMEOUT_MS: integer(1_000, 30_000),
      // Jobs waiting this long while the worker has room and starts none: its fetch loop hung
      // (a Redis client that never reconnected); it fails its health checks and exits 1. 0: off.
      WORKER_STALL_TIMEOUT_SECONDS: integer(0, 60),
      // How often the database and Redis's maxmemory-policy are checked for /readyz.
      READINESS_CHECK_INTERVAL_MS: integer(100, 5_000),
      LOG_LEVEL: logLevel,
    })
    .superRefine(checkRedisEnv);
}

export type WorkerEnv = z.infer<ReturnType<typeof workerEnvSchema>>;

/**
 * Every problem is reported in one message; empty strings (`PORT=` in .env) mean "not set".
 * With NODE_ENV=production (the images set it) DATABASE_URL, SMTP_URL and SHOP_URL must be set:
 * their defaults (the embedded PGlite, the local mail catcher, the demo shop) are for a laptop.
 * Throws ConfigError.
 */
export function parseWorkerEnv(
  app: string,
  defaultPort: number,
  env: Record<string, string | undefined>,
): WorkerEnv {
  const production = env.NODE_ENV === "production";
  const schema = workerEnvSchema(defaultPort).superRefine((_, context) => {
    if (!production) return;
    for (const name of LOCAL_DEFAULTS) {
      if ((env[name] ?? "").trim() !== "") continue;
      context.addIssue({
        code: "custom",
        path: [name],
        message: `is required with NODE_ENV=production (without it the worker would use ${LOCAL_STAND_INS[name]})`,
      });
    }
  });
  return parseEnv(app, schema, env);
}

const LOCAL_STAND_INS: Record<(typeof LOCAL_DEFAULTS)[number], string> = {
  DATABASE_URL: "an embedded PGlite database in PGLITE_DATA_DIR",
  SMTP_URL: "pnpm start's local mail catcher",
  SHOP_URL: "pnpm start's demo shop in mail links",
};
