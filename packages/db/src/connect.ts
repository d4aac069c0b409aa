import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Database } from "./schema.ts";

export interface ConnectOptions {
  connectionString: string;
  /** Pool size; each worker's concurrency should not exceed it. */
  max?: number;
  onError?: (error: Error) => void;
  /** Give up on a connection that cannot be made within this (a CLI must not hang). */
  connectTimeoutMs?: number;
  /** Fail a query that runs longer than this. */
  queryTimeoutMs?: number;
}

// bigint columns (money in minor units, serial ids) come back as numbers: every value we store
// fits well inside Number.MAX_SAFE_INTEGER. Set on our pools only, not on every pg client.
const bigintAsNumber = new pg.TypeOverrides();
bigintAsNumber.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function connect({
  connectionString,
  max = 10,
  onError,
  connectTimeoutMs,
  queryTimeoutMs,
}: ConnectOptions): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString,
    max,
    types: bigintAsNumber,
    ...(connectTimeoutMs === undefined ? {} : { connectionTimeoutMillis: connectTimeoutMs }),
    ...(queryTimeoutMs === undefined ? {} : { query_timeout: queryTimeoutMs }),
  });
  // A client losing its connection must not crash the process: the pool replaces an idle one,
  // and a checked-out one (e.g. inside a transaction) fails its query and is discarded on release.
  // Reported once, by the client; the pool re-emits idle clients' errors, which must be handled.
  pool.on("connect", (client) => {
    client.on("error", (error) => onError?.(error));
  });
  pool.on("error", () => undefined);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
