import {
  DEFAULT_COMPLETED_RETENTION_SECONDS,
  MIN_COMPLETED_RETENTION_SECONDS,
} from "@fanfare-relay/queues/job-options";
import { DEFAULT_TOLERANCE_SECONDS } from "@fanfare-relay/signature/verify";
import {
  ConfigError,
  flag,
  integer,
  logLevel,
  parseEnv,
  port,
  trustProxy,
} from "@fanfare-relay/config/env-fields";
import { LOCAL_DEMO_SECRET } from "@fanfare-relay/config/demo-secret";
import { checkRedisEnv, redisEnvFields } from "@fanfare-relay/config/redis-env";
import { z } from "zod";

export { ConfigError };
export type { TrustProxy } from "@fanfare-relay/config/env-fields";

const envSchema = z
  .object({
    FANFARE_WEBHOOK_SECRETS: z
      .string({
        error: "is required: the signing secret(s) from the Fanfare dashboard, comma-separated",
      })
      .transform((value) =>
        value
          .split(",")
          .map((secret) => secret.trim())
          .filter((secret) => secret.length > 0),
      )
      .pipe(z.array(z.string()).min(1, "must contain at least one secret")),
    ...redisEnvFields,
    // Accept deliveries even when Redis's maxmemory-policy may evict them (documented risk).
    REDIS_ALLOW_EVICTION: flag(false),
    PORT: port(3000),
    HOST: z.string().min(1).default("0.0.0.0"),
    BODY_LIMIT_BYTES: integer(1024, 1024 * 1024),
    SIGNATURE_TOLERANCE_SECONDS: integer(1, DEFAULT_TOLERANCE_SECONDS),
    TRUST_PROXY: trustProxy,
    ENQUEUE_TIMEOUT_MS: integer(50, 2_000),
    COMPLETED_RETENTION_SECONDS: integer(
      MIN_COMPLETED_RETENTION_SECONDS,
      DEFAULT_COMPLETED_RETENTION_SECONDS,
    ),
    FAILED_RETENTION_SECONDS: z.coerce
      .number()
      .int()
      .min(MIN_COMPLETED_RETENTION_SECONDS)
      .optional(),
    SHUTDOWN_DRAIN_DELAY_MS: integer(0, 5_000),
    SHUTDOWN_TIMEOUT_MS: integer(1_000, 30_000),
    LOG_LEVEL: logLevel,
    NODE_ENV: z.string().optional(),
  })
  .superRefine(checkRedisEnv)
  .superRefine((env, ctx) => {
    // .env.example's secret is public: anyone could sign events with it.
    if (env.NODE_ENV === "production" && env.FANFARE_WEBHOOK_SECRETS.includes(LOCAL_DEMO_SECRET)) {
      ctx.addIssue({
        code: "custom",
        path: ["FANFARE_WEBHOOK_SECRETS"],
        message:
          "holds the public demo secret from .env.example, refused with NODE_ENV=production: set your Fanfare signing secret",
      });
    }
  });

export type IngestEnv = z.infer<typeof envSchema>;

/** Parses the environment once, at start; every problem is reported in one message. */
export function loadEnv(env: NodeJS.ProcessEnv = process.env): IngestEnv {
  return parseEnv("ingest", envSchema, env);
}
