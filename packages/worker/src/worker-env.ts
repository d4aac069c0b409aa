import { logLevels } from "@fanfare-relay/logging/logger";
import { DEFAULT_PREFIX } from "@fanfare-relay/queues/producer";
import { z } from "zod";

const integer = (min: number, fallback: number) =>
  z.coerce.number().int().min(min).default(fallback);

const boolean = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0"])
    .default(fallback ? "true" : "false")
    .transform((value) => value === "true" || value === "1");

/** Settings every worker app shares; each app parses them once, in its own src/env.ts. */
export function workerEnvSchema(defaultPort: number) {
  return z.object({
    REDIS_URL: z
      .url({ protocol: /^rediss?$/, error: "must be a redis:// or rediss:// URL" })
      .default("redis://127.0.0.1:6379"),
    REDIS_PREFIX: z.string().min(1).default(DEFAULT_PREFIX),
    DATABASE_URL: z
      .url({ protocol: /^postgres(ql)?$/, error: "must be a postgres:// URL" })
      .optional(),
    PGLITE_DATA_DIR: z.string().min(1).default(".data/pglite"),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).optional(),
    MIGRATE_ON_START: boolean(false),
    WORKER_CONCURRENCY: integer(1, 10),
    PORT: integer(0, defaultPort).pipe(z.number().max(65535)),
    HOST: z.string().min(1).default("0.0.0.0"),
    SMTP_URL: z
      .url({ protocol: /^smtps?$/, error: "must be an smtp:// or smtps:// URL" })
      .default("smtp://127.0.0.1:1025"),
    MAIL_FROM: z.string().min(3).default("Fanfare Relay <no-reply@fanfare-relay.local>"),
    SHOP_URL: z.url({ protocol: /^https?$/ }).default("http://localhost:3000"),
    OPS_ALERT_EMAIL: z.email().optional(),
    FAILURE_ALERT_THRESHOLD: integer(1, 10),
    FAILURE_ALERT_WINDOW_SECONDS: integer(1, 300),
    DEAD_LETTER_REDRIVE_AFTER_SECONDS: integer(0, 3600),
    DEAD_LETTER_MAX_REDRIVES: integer(0, 3),
    DEAD_LETTER_REDRIVE_INTERVAL_SECONDS: integer(0, 300),
    RETRY_TIME_SCALE: z.coerce.number().positive().max(1).default(1),
    JOB_LOCK_DURATION_MS: integer(1_000, 30_000),
    STALLED_INTERVAL_MS: integer(1_000, 30_000),
    SHUTDOWN_TIMEOUT_MS: integer(1_000, 30_000),
    LOG_LEVEL: z.enum(logLevels).default("info"),
  });
}

export type WorkerEnv = z.infer<ReturnType<typeof workerEnvSchema>>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Every problem is reported in one message; empty strings (`PORT=` in .env) mean "not set". */
export function parseWorkerEnv(
  app: string,
  defaultPort: number,
  env: Record<string, string | undefined>,
): WorkerEnv {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const result = workerEnvSchema(defaultPort).safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `  - ${issue.path.join(".")}: ${issue.message}`,
  );
  throw new ConfigError(`Invalid ${app} configuration:\n${problems.join("\n")}`);
}
