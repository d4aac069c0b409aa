import type { Database } from "@fanfare-relay/db/schema";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { redactUrl } from "./connection-options.ts";
import { CliError } from "./cli-error.ts";
import { errorMessage } from "./with-timeout.ts";

export interface DatabaseOptions {
  url: string;
  /** A connection that cannot be made within this fails instead of hanging the command. */
  connectTimeoutMs: number;
  /** Unset for migrations, which may take long; doctor's queries must not. */
  queryTimeoutMs?: number;
}

const bigintAsNumber = new pg.TypeOverrides();
bigintAsNumber.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/**
 * A small pool of our own rather than @fanfare-relay/db/connect: a command must give up on an
 * unreachable server after a few seconds, and `connect` has no connection timeout.
 */
export function openDatabase({
  url,
  connectTimeoutMs,
  queryTimeoutMs,
}: DatabaseOptions): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: 2,
    connectionTimeoutMillis: connectTimeoutMs,
    ...(queryTimeoutMs === undefined ? {} : { query_timeout: queryTimeoutMs }),
    // As in @fanfare-relay/db: bigint ids come back as numbers; set per pool, not globally.
    types: bigintAsNumber,
  });
  // An idle client losing its connection must not crash the command; the next query reports it.
  pool.on("error", () => undefined);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** One line naming the server (without its password) and what went wrong. */
export function databaseError(url: string, error: unknown): CliError {
  if (error instanceof CliError) return error;
  // 42P01 undefined_table: most likely a database that was never migrated.
  const hint =
    (error as { code?: unknown } | null)?.code === "42P01"
      ? " (run `fanfare-relay migrate` or `pnpm db:migrate` first)"
      : "";
  return new CliError(
    "CLI_DATABASE_ERROR",
    `PostgreSQL at ${redactUrl(url)}: ${errorMessage(error)}${hint}`,
  );
}
