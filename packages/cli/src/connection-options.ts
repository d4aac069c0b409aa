import { Option } from "commander";
import { z } from "zod";
import { CliError } from "./cli-error.ts";

/** The PGlite host that `pnpm start` runs for all apps. */
export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5433/postgres";
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
export const DEFAULT_PREFIX = "fanfare";
/** `pnpm start`'s local mail catcher, as for the workers. */
export const DEFAULT_SMTP_URL = "smtp://127.0.0.1:1025";

const schema = z.object({
  databaseUrl: z.url({ protocol: /^postgres(ql)?$/, error: "must be a postgres:// URL" }),
  redisUrl: z.url({ protocol: /^rediss?$/, error: "must be a redis:// or rediss:// URL" }),
  prefix: z.string().min(1, "must not be empty"),
  smtpUrl: z.url({ protocol: /^smtps?$/, error: "must be an smtp:// or smtps:// URL" }),
  /** Seconds each check or connection may take before it counts as failed. */
  timeout: z.coerce.number().positive("must be a positive number of seconds").max(600),
});

export type ConnectionConfig = z.infer<typeof schema>;
type Key = keyof ConnectionConfig;

interface Source {
  flag: string;
  env?: string;
  fallback: string;
  description: string;
}

const sources: Record<Key, Source> = {
  databaseUrl: {
    flag: "--database-url <url>",
    env: "DATABASE_URL",
    fallback: DEFAULT_DATABASE_URL,
    description: "PostgreSQL URL (default: $DATABASE_URL, else the PGlite host of pnpm start)",
  },
  redisUrl: {
    flag: "--redis-url <url>",
    env: "REDIS_URL",
    fallback: DEFAULT_REDIS_URL,
    description: `Redis URL (default: $REDIS_URL, else ${DEFAULT_REDIS_URL})`,
  },
  prefix: {
    flag: "--prefix <prefix>",
    env: "REDIS_PREFIX",
    fallback: DEFAULT_PREFIX,
    description: `BullMQ key prefix (default: $REDIS_PREFIX, else ${DEFAULT_PREFIX})`,
  },
  smtpUrl: {
    flag: "--smtp-url <url>",
    env: "SMTP_URL",
    fallback: DEFAULT_SMTP_URL,
    description: `SMTP URL (default: $SMTP_URL, else ${DEFAULT_SMTP_URL})`,
  },
  timeout: {
    flag: "--timeout <seconds>",
    fallback: "5",
    description: "how long a connection or check may take (default: 5)",
  },
};

/** The commander options for `keys`; their defaults are resolved by parseConnectionConfig. */
export function connectionOptions(...keys: Key[]): Option[] {
  // No commander defaults: an explicit flag, then the variable, then the fallback.
  return keys.map((key) => new Option(sources[key].flag, sources[key].description));
}

/**
 * Flags win over the environment, the environment over the local defaults; an empty variable
 * counts as unset. Every invalid value is named in one message (never the value: URLs carry
 * passwords).
 */
export function parseConnectionConfig<K extends Key>(
  keys: readonly K[],
  options: Partial<Record<Key, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
): Pick<ConnectionConfig, K> {
  const config: Partial<Record<Key, unknown>> = {};
  const problems: string[] = [];
  for (const key of keys) {
    const source = sources[key];
    const fromEnv = source.env === undefined ? undefined : env[source.env];
    const [value, origin] =
      options[key] !== undefined
        ? [options[key], source.flag.split(" ")[0] ?? key]
        : fromEnv !== undefined && fromEnv !== ""
          ? [fromEnv, source.env ?? key]
          : [source.fallback, key];
    const parsed = schema.shape[key].safeParse(value);
    if (parsed.success) config[key] = parsed.data;
    else problems.push(`${origin} ${parsed.error.issues[0]?.message ?? "is invalid"}`);
  }
  if (problems.length > 0) throw new CliError("CLI_BAD_OPTION", problems.join("; "));
  return config as Pick<ConnectionConfig, K>;
}

/** A URL fit for output: the password replaced, or nothing of it when it does not parse. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable URL)";
  }
}
