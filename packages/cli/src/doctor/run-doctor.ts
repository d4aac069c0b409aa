import type { RedisTarget } from "@fanfare-relay/queues/redis-target";
import { redactUrl } from "../connection-options.ts";
import { openDatabase } from "../database.ts";
import { errorMessage } from "../with-timeout.ts";
import type { CheckResult } from "./check.ts";
import { guarded } from "./guarded.ts";
import { checkMigrations, checkPostgres } from "./postgres-checks.ts";
import { redisChecks } from "./redis-target-checks.ts";
import { checkWebhookSecrets } from "./secret-check.ts";
import { checkSmtp, SMTP_ADVICE } from "./smtp-check.ts";

export interface DoctorOptions {
  /** Where Redis is: one node, a cluster (every master is checked) or Sentinel's primary. */
  redis: RedisTarget;
  databaseUrl: string;
  smtpUrl: string;
  /** FANFARE_WEBHOOK_SECRETS as the ingest would see it. */
  webhookSecrets: string | undefined;
  /** Each connection and each check gives up after this long. */
  timeoutMs: number;
}

const POSTGRES_ADVICE =
  "start PostgreSQL (or `pnpm start` for the local PGlite host) or point DATABASE_URL (--database-url) at it";

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
    redisChecks(options.redis, timeoutMs),
    postgresChecks(options.databaseUrl, timeoutMs),
    guarded("smtp", { advice: SMTP_ADVICE, what: smtpWhere, timeoutMs }, () =>
      checkSmtp(options.smtpUrl, smtpWhere, timeoutMs),
    ),
  ]);
  return [...redis, ...postgres, smtp, checkWebhookSecrets(options.webhookSecrets)];
}
