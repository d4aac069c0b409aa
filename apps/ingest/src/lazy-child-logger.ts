import type { FastifyBaseLogger } from "fastify";
import type { Bindings, ChildLoggerOptions, LogFn } from "pino";

type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace";

/** The parent's own check when it has one (pino does); otherwise every level counts as enabled. */
function levelEnabled(logger: FastifyBaseLogger, level: LogLevel): boolean {
  const check = (logger as Partial<{ isLevelEnabled(level: string): boolean }>).isLevelEnabled;
  return check === undefined ? true : check.call(logger, level);
}

/**
 * `request.log` that makes its pino child (`{reqId}` bound, serialised and run through the
 * redaction paths) only when the request logs a line at an enabled level. An accepted delivery
 * logs nothing at info, so most requests never pay for a child; a line that is written looks
 * exactly as the eager child would have written it.
 */
class LazyChildLogger implements FastifyBaseLogger {
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;
  #child: FastifyBaseLogger | undefined;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
    // A route's own level or serializers change what the child writes: make it at once.
    if (options.level !== undefined || options.serializers !== undefined) this.#get();
  }

  #get(): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options);
    return this.#child;
  }

  #write(level: LogLevel, args: unknown[]): void {
    // A level the parent does not write needs no child.
    if (this.#child === undefined && !levelEnabled(this.#parent, level)) return;
    const child = this.#get();
    child[level](...(args as Parameters<LogFn>));
  }

  get level(): string {
    return (this.#child ?? this.#parent).level;
  }

  set level(level: string) {
    this.#get().level = level;
  }

  // Prototype methods, not per-instance closures: one of these objects is made per request.
  fatal(...args: unknown[]): void {
    this.#write("fatal", args);
  }
  error(...args: unknown[]): void {
    this.#write("error", args);
  }
  warn(...args: unknown[]): void {
    this.#write("warn", args);
  }
  info(...args: unknown[]): void {
    this.#write("info", args);
  }
  debug(...args: unknown[]): void {
    this.#write("debug", args);
  }
  trace(...args: unknown[]): void {
    this.#write("trace", args);
  }
  silent(): void {
    // Nothing is written at `silent`.
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#get().child(bindings, options);
  }
}

/**
 * Fastify's `childLoggerFactory`: a lazy `request.log` (see LazyChildLogger) instead of a pino
 * child per request. A route with its own log level or serializers gets its child at once.
 */
export function lazyChildLoggerFactory(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, options);
}
