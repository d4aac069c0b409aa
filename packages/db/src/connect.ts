import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Database } from "./schema.ts";

export interface ConnectOptions {
  connectionString: string;
  /** Pool size; each worker's concurrency should not exceed it. */
  max?: number;
  onError?: (error: Error) => void;
}

// bigint columns (money in minor units, serial ids) come back as numbers: every value we store
// fits well inside Number.MAX_SAFE_INTEGER.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function connect({ connectionString, max = 10, onError }: ConnectOptions): Kysely<Database> {
  const pool = new pg.Pool({ connectionString, max });
  // A client losing its connection must not crash the process: the pool replaces an idle one,
  // and a checked-out one (e.g. inside a transaction) fails its query and is discarded on release.
  pool.on("error", (error) => onError?.(error));
  pool.on("connect", (client) => {
    client.on("error", (error) => onError?.(error));
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
