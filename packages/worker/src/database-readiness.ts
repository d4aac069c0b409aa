/** Why the database could not be reached, in words an operator can act on. */
export interface DatabaseProblem {
  /** The driver's or server's code: `ECONNREFUSED`, `3D000`, `28P01`, `TIMEOUT` … */
  code: string;
  /** One short sentence, e.g. `connection refused`, `database does not exist`. Never a password. */
  reason: string;
  /** What to check, e.g. `check DATABASE_URL's host and port and that PostgreSQL is running`. */
  hint: string;
}

// SQLSTATEs from https://www.postgresql.org/docs/current/errcodes-appendix.html and Node's
// socket error codes (https://nodejs.org/api/errors.html#common-system-errors).
const known: Record<string, Omit<DatabaseProblem, "code">> = {
  ECONNREFUSED: {
    reason: "connection refused",
    hint: "check DATABASE_URL's host and port and that PostgreSQL is running",
  },
  ENOTFOUND: {
    reason: "host not found",
    hint: "check DATABASE_URL's host name",
  },
  EAI_AGAIN: {
    reason: "host name could not be resolved (DNS)",
    hint: "check DATABASE_URL's host name and the DNS",
  },
  EHOSTUNREACH: { reason: "host unreachable", hint: "check the network to DATABASE_URL's host" },
  ECONNRESET: {
    reason: "connection reset",
    hint: "check that PostgreSQL is running and accepts this client (TLS, pg_hba.conf)",
  },
  TIMEOUT: {
    reason: "no answer in time",
    hint: "check DATABASE_URL's host and port, firewalls, and the server's load",
  },
  CONNECTION_LOST: {
    reason: "connection lost",
    hint: "check that PostgreSQL is running and reachable",
  },
  "3D000": {
    reason: "database does not exist",
    hint: "check the database name in DATABASE_URL, or create it",
  },
  "28000": {
    reason: "role does not exist or is not allowed to connect",
    hint: "check the user name in DATABASE_URL and pg_hba.conf",
  },
  "28P01": {
    reason: "password authentication failed",
    hint: "check the user and password in DATABASE_URL",
  },
  "42501": {
    reason: "permission denied",
    hint: "grant the DATABASE_URL role CONNECT and the tables' privileges",
  },
  "57P03": { reason: "the server is starting up or shutting down", hint: "wait for it" },
  "53300": {
    reason: "too many connections",
    hint: "lower DATABASE_POOL_SIZE or replicas, or raise PostgreSQL's max_connections",
  },
  "55000": {
    reason: "database is not accepting connections",
    hint: "check the database's ALLOW_CONNECTIONS setting",
  },
};

function codeOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  // pg's own error for a socket closed under it has no code.
  if (error instanceof Error && error.message.startsWith("Connection terminated")) {
    return "CONNECTION_LOST";
  }
  const { code, errors } = error as { code?: unknown; errors?: unknown };
  if (typeof code === "string") return code;
  // Node's happy-eyeballs connect (several addresses for one host) throws an AggregateError.
  if (Array.isArray(errors)) return errors.map(codeOf).find((inner) => inner !== undefined);
  return undefined;
}

/**
 * Maps a connection or query error from `pg` to a reason an operator can act on, from the server's
 * SQLSTATE (`3D000`, `28000`, `28P01` …) or Node's socket code (`ECONNREFUSED`, `ENOTFOUND` …).
 * Unknown errors keep their code (or `UNKNOWN`) and the driver's message, which never contains the
 * password (pg's messages name the user and the database at most).
 */
export function describeDatabaseError(error: unknown): DatabaseProblem {
  const code = codeOf(error);
  const mapped = code === undefined ? undefined : known[code];
  if (code !== undefined && mapped !== undefined) return { code, ...mapped };
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: code ?? "UNKNOWN",
    reason: message.slice(0, 200),
    hint: "check DATABASE_URL and the server's log",
  };
}

/** The database as last seen: `unknown` until the first check has finished. */
export type DatabaseState =
  | { status: "unknown" }
  | { status: "reachable" }
  | { status: "unreachable"; problem: DatabaseProblem };

export interface DatabaseWatchOptions {
  /** One round trip to the database (e.g. `SELECT 1` through the workers' pool); throws when it fails. */
  probe: () => Promise<unknown>;
  /** How often to check, in ms. */
  intervalMs: number;
  /** A probe still running after this many ms counts as a failure (`TIMEOUT`). */
  timeoutMs: number;
  /** Called after every check, changed or not, with the state before it (callers log changes). */
  onCheck?: (state: DatabaseState, previous: DatabaseState) => void;
}

class ProbeTimeout extends Error {
  readonly code = "TIMEOUT";
}

/**
 * Keeps checking that the database answers: at `check()` (start, or when a connection was lost)
 * and every `intervalMs`. Concurrent checks share one probe, so a hanging server never piles
 * probes up.
 */
export class DatabaseWatch {
  #state: DatabaseState = { status: "unknown" };
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<DatabaseState> | undefined;

  constructor(private readonly options: DatabaseWatchOptions) {}

  get state(): DatabaseState {
    return this.#state;
  }

  /** Checks now; resolves with the new state, never rejects. */
  check(): Promise<DatabaseState> {
    this.#inFlight ??= this.#probe().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /** Checks every `intervalMs` from now on (the first check is the caller's `check()`). */
  start(): void {
    this.#timer ??= setInterval(() => void this.check(), this.options.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #probe(): Promise<DatabaseState> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(new ProbeTimeout(`no answer in ${String(this.options.timeoutMs)} ms`));
      }, this.options.timeoutMs);
    });
    let next: DatabaseState;
    try {
      await Promise.race([this.options.probe(), timeout]);
      next = { status: "reachable" };
    } catch (error) {
      next = { status: "unreachable", problem: describeDatabaseError(error) };
    } finally {
      clearTimeout(timer);
    }
    const previous = this.#state;
    this.#state = next;
    this.options.onCheck?.(next, previous);
    return next;
  }
}

/** A connection string without its password, for logs: `postgres://user@host:5432/db`. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    parsed.search = "";
    return parsed.toString();
  } catch {
    return "(unparseable url)";
  }
}
