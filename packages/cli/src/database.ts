import type { Database } from "@fanfare-relay/db/schema";
import { connect } from "@fanfare-relay/db/connect";
import type { Kysely } from "kysely";
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

/** A small pool that gives up on an unreachable server instead of hanging the command. */
export function openDatabase({
  url,
  connectTimeoutMs,
  queryTimeoutMs,
}: DatabaseOptions): Kysely<Database> {
  // Lost connections surface as the failing query's error; nothing else to report.
  return connect({
    connectionString: url,
    max: 2,
    connectTimeoutMs,
    queryTimeoutMs,
    onError: () => undefined,
  });
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
