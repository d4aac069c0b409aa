import type { Redis } from "ioredis";
import { redactUrl } from "../connection-options.ts";
import { openDatabase } from "../database.ts";
import { openRedis } from "../redis-client.ts";
import { errorMessage, withTimeout } from "../with-timeout.ts";
import { fail, type CheckResult } from "./check.ts";
import { checkMigrations, checkPostgres } from "./postgres-checks.ts";
import { checkRedisEviction, checkRedisPersistence, checkRedisVersion } from "./redis-checks.ts";
import { checkWebhookSecrets } from "./secret-check.ts";
import { checkSmtp, SMTP_ADVICE } from "./smtp-check.ts";

export interface DoctorOptions {
  redisUrl: string;
  databaseUrl: string;
  smtpUrl: string;
  /** FANFARE_WEBHOOK_SECRETS as the ingest would see it. */
  webhookSecrets: string | undefined;
  /** Each connection and each check gives up after this long. */
  timeoutMs: number;
}

/**
 * A check that throws or does not answer in time fails with what went wrong; the services are
 * checked concurrently, so doctor takes about one timeout at worst.
 */
async function guarded(
  name: string,
  { advice, what, timeoutMs }: { advice: string; what: string; timeoutMs: number },
  check: () => Promise<CheckResult>,
): Promise<CheckResult> {
  try {
    return await withTimeout(check(), timeoutMs, what);
  } catch (error) {
    return fail(name, errorMessage(error), advice);
  }
}

const REDIS_ADVICE =
  "start Redis (`bash scripts/ensure-services.sh` locally) or point REDIS_URL (--redis-url) at it";
const POSTGRES_ADVICE =
  "start PostgreSQL (or `pnpm start` for the local PGlite host) or point DATABASE_URL (--database-url) at it";

async function redisChecks(url: string, timeoutMs: number): Promise<CheckResult[]> {
  const where = redactUrl(url);
  let redis: Redis;
  try {
    redis = await openRedis(url, timeoutMs);
  } catch (error) {
    // The other Redis checks cannot run; this one line says why.
    return [fail("redis", errorMessage(error), REDIS_ADVICE)];
  }
  try {
    const guard = { advice: REDIS_ADVICE, what: `Redis at ${where}`, timeoutMs };
    return await Promise.all([
      guarded("redis", guard, () => checkRedisVersion(redis, where)),
      guarded("redis eviction", guard, () => checkRedisEviction(redis)),
      guarded("redis persistence", guard, () => checkRedisPersistence(redis)),
    ]);
  } finally {
    redis.disconnect();
  }
}

async function postgresChecks(url: string, timeoutMs: number): Promise<CheckResult[]> {
  const where = redactUrl(url);
  const db = openDatabase({ url, connectTimeoutMs: timeoutMs, queryTimeoutMs: timeoutMs });
  try {
    const what = `PostgreSQL at ${where}`;
    const guard = { advice: POSTGRES_ADVICE, what, timeoutMs };
    const reachable = await guarded("postgres", guard, async () => {
      try {
        return await checkPostgres(db, where);
      } catch (error) {
        throw new Error(`${what}: ${errorMessage(error)}`);
      }
    });
    if (reachable.status === "fail") return [reachable];
    const migrations = await guarded("migrations", guard, () => checkMigrations(db));
    return [reachable, migrations];
  } finally {
    await db.destroy().catch(() => undefined);
  }
}

/** Every check, in a fixed order, one result each. */
export async function runDoctor(options: DoctorOptions): Promise<CheckResult[]> {
  const { timeoutMs } = options;
  const smtpWhere = redactUrl(options.smtpUrl);
  const [redis, postgres, smtp] = await Promise.all([
    redisChecks(options.redisUrl, timeoutMs),
    postgresChecks(options.databaseUrl, timeoutMs),
    guarded("smtp", { advice: SMTP_ADVICE, what: smtpWhere, timeoutMs }, () =>
      checkSmtp(options.smtpUrl, smtpWhere, timeoutMs),
    ),
  ]);
  return [...redis, ...postgres, smtp, checkWebhookSecrets(options.webhookSecrets)];
}
