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
  /** A development box: a Redis without any persistence is a warning, not a failure. */
  dev?: boolean;
}

const POSTGRES_ADVICE =
  "start PostgreSQL (or `pnpm start` for the local PGlite host) or point DATABASE_URL (--database-url) at it";

const ROLE_ADVICE =
  "PostgreSQL is running but refused the role: set the user and password in DATABASE_URL (--database-url) to a role that exists, with its password (CREATE ROLE … LOGIN PASSWORD … or ALTER ROLE … PASSWORD …)";

/**
 * 28000 invalid_authorization_specification (e.g. `role "x" does not exist`, no pg_hba.conf
 * entry) and 28P01 invalid_password: the server answered, so starting it is not the fix.
 */
function roleRefused(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    code === "28000" ||
    code === "28P01" ||
    /\brole "[^"]*" does not exist\b/.test(errorMessage(error))
  );
}

async function postgresChecks(url: string, timeoutMs: number): Promise<CheckResult[]> {
  const where = redactUrl(url);
  const db = openDatabase({ url, connectTimeoutMs: timeoutMs, queryTimeoutMs: timeoutMs });
  try {
    const what = `PostgreSQL at ${where}`;
    const guard = { advice: POSTGRES_ADVICE, what, timeoutMs };
    // Set inside the check; an object because TypeScript does not see the callback assign it.
    const refusal = { role: false };
    const reachable = await guarded("postgres", guard, async () => {
      try {
        return await checkPostgres(db, where);
      } catch (error) {
        refusal.role = roleRefused(error);
        throw new Error(`${what}: ${errorMessage(error)}`);
      }
    });
    if (reachable.status === "fail") {
      return [refusal.role ? { ...reachable, advice: ROLE_ADVICE } : reachable];
    }
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
    redisChecks(options.redis, timeoutMs, { dev: options.dev ?? false }),
    postgresChecks(options.databaseUrl, timeoutMs),
    guarded("smtp", { advice: SMTP_ADVICE, what: smtpWhere, timeoutMs }, () =>
      checkSmtp(options.smtpUrl, smtpWhere, timeoutMs),
    ),
  ]);
  return [...redis, ...postgres, smtp, checkWebhookSecrets(options.webhookSecrets)];
}
