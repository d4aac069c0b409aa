import {
  DEFAULT_COMPLETED_RETENTION_SECONDS,
  MIN_COMPLETED_RETENTION_SECONDS,
} from "@fanfare-relay/queues/job-options";
import { DEFAULT_PREFIX } from "@fanfare-relay/queues/producer";
import { DEFAULT_TOLERANCE_SECONDS } from "@fanfare-relay/signature/verify";
import { z } from "zod";

const integer = (min: number, fallback: number) =>
  z.coerce.number().int().min(min).default(fallback);

export type TrustProxy = boolean | string | ((address: string, hop: number) => boolean);

/** `true`/`false`, a hop count, or a comma-separated list of trusted proxy addresses/CIDRs. */
const trustProxy = z
  .string()
  .trim()
  .default("false")
  .transform((value): TrustProxy => {
    if (value === "true") return true;
    if (value === "false" || value === "") return false;
    if (/^\d+$/.test(value)) {
      const hops = Number(value);
      return (_address, hop) => hop < hops;
    }
    return value;
  });

const envSchema = z.object({
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
  REDIS_URL: z
    .url({ protocol: /^rediss?$/, error: "must be a redis:// or rediss:// URL" })
    .default("redis://127.0.0.1:6379"),
  REDIS_PREFIX: z.string().min(1).default(DEFAULT_PREFIX),
  PORT: integer(0, 3000).pipe(z.number().max(65535)),
  HOST: z.string().min(1).default("0.0.0.0"),
  BODY_LIMIT_BYTES: integer(1024, 1024 * 1024),
  SIGNATURE_TOLERANCE_SECONDS: integer(1, DEFAULT_TOLERANCE_SECONDS),
  TRUST_PROXY: trustProxy,
  ENQUEUE_TIMEOUT_MS: integer(50, 2_000),
  COMPLETED_RETENTION_SECONDS: integer(
    MIN_COMPLETED_RETENTION_SECONDS,
    DEFAULT_COMPLETED_RETENTION_SECONDS,
  ),
  FAILED_RETENTION_SECONDS: z.coerce.number().int().min(MIN_COMPLETED_RETENTION_SECONDS).optional(),
  SHUTDOWN_DRAIN_DELAY_MS: integer(0, 5_000),
  SHUTDOWN_TIMEOUT_MS: integer(1_000, 30_000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type IngestEnv = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses the environment once, at start; every problem is reported in one message. */
export function loadEnv(env: NodeJS.ProcessEnv = process.env): IngestEnv {
  // Empty strings (e.g. `PORT=` in a .env file) mean "not set".
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const result = envSchema.safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `  - ${issue.path.join(".")}: ${issue.message}`,
  );
  throw new ConfigError(`Invalid ingest configuration:\n${problems.join("\n")}`);
}
