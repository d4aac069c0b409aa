import { checkRedisEnv, redisEnvFields, redisTargetOf } from "@fanfare-relay/config/redis-env";
import type { RedisTarget } from "@fanfare-relay/queues/redis-target";
import type { Command } from "commander";
import { Option } from "commander";
import { z } from "zod";
import { CliError } from "./cli-error.ts";
import { LOCAL_PREFIX } from "./env-files.ts";

/** The PGlite host that `pnpm start` runs for all apps. */
export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5433/postgres";
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
/** The apps' default; the CLI run from the repository gets pnpm start's instead (see cliEnv). */
export const DEFAULT_PREFIX = "fanfare";
/** `pnpm start`'s local mail catcher, as for the workers. */
export const DEFAULT_SMTP_URL = "smtp://127.0.0.1:1025";

/** The options that take one value each; `redis` is several (see redisSources). */
const schema = z.object({
  databaseUrl: z.url({ protocol: /^postgres(ql)?$/, error: "must be a postgres:// URL" }),
  // The apps' own rule (no braces: each queue has its own hash tag), with the CLI's wording for "".
  prefix: z.string().min(1, "must not be empty").pipe(redisEnvFields.REDIS_PREFIX.unwrap()),
  smtpUrl: z.url({ protocol: /^smtps?$/, error: "must be an smtp:// or smtps:// URL" }),
  /** Seconds each check or connection may take before it counts as failed. */
  timeout: z.coerce.number().positive("must be a positive number of seconds").max(600),
});

type SimpleKey = keyof z.infer<typeof schema>;
type Key = SimpleKey | "redis";

export type ConnectionConfig = z.infer<typeof schema> & {
  /** Where Redis is: one node, a cluster or Sentinel's primary, with credentials from the env. */
  redis: RedisTarget;
};

interface Source {
  flag: string;
  env?: string;
  fallback: string;
  description: string;
}

const sources: Record<SimpleKey, Source> = {
  databaseUrl: {
    flag: "--database-url <url>",
    env: "DATABASE_URL",
    fallback: DEFAULT_DATABASE_URL,
    description: "PostgreSQL URL (default: $DATABASE_URL, else the PGlite host of pnpm start)",
  },
  prefix: {
    flag: "--prefix <prefix>",
    env: "REDIS_PREFIX",
    fallback: DEFAULT_PREFIX,
    description: `BullMQ key prefix (default: $REDIS_PREFIX, else ${LOCAL_PREFIX} as for pnpm start when .env or .env.example is read, else ${DEFAULT_PREFIX})`,
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

type RedisVariable =
  | "REDIS_URL"
  | "REDIS_CLUSTER_NODES"
  | "REDIS_SENTINELS"
  | "REDIS_SENTINEL_MASTER"
  | "REDIS_SENTINEL_PASSWORD"
  | "REDIS_USERNAME"
  | "REDIS_PASSWORD"
  | "REDIS_TLS";

interface RedisSource {
  env: RedisVariable;
  /** Where Redis is; a flag of one mode overrides the variables of every mode. */
  mode: boolean;
  /** The commander option (its camelCase key is `attribute`); none for secrets and TLS. */
  option?: { flag: string; attribute: string; description: string };
}

const redisSources: readonly RedisSource[] = [
  {
    env: "REDIS_URL",
    mode: true,
    option: {
      flag: "--redis-url <url>",
      attribute: "redisUrl",
      description: `URL of a single Redis node (default: $REDIS_URL, else ${DEFAULT_REDIS_URL})`,
    },
  },
  {
    env: "REDIS_CLUSTER_NODES",
    mode: true,
    option: {
      flag: "--redis-cluster-nodes <host:port,...>",
      attribute: "redisClusterNodes",
      description: "seed nodes of a Redis Cluster (default: $REDIS_CLUSTER_NODES)",
    },
  },
  {
    env: "REDIS_SENTINELS",
    mode: true,
    option: {
      flag: "--redis-sentinels <host:port,...>",
      attribute: "redisSentinels",
      description:
        "Sentinels that watch the Redis primary, with --redis-sentinel-master (default: $REDIS_SENTINELS)",
    },
  },
  {
    env: "REDIS_SENTINEL_MASTER",
    mode: false,
    option: {
      flag: "--redis-sentinel-master <name>",
      attribute: "redisSentinelMaster",
      description:
        "the name the Sentinels monitor the primary under (default: $REDIS_SENTINEL_MASTER)",
    },
  },
  { env: "REDIS_SENTINEL_PASSWORD", mode: false },
  { env: "REDIS_USERNAME", mode: false },
  { env: "REDIS_PASSWORD", mode: false },
  { env: "REDIS_TLS", mode: false },
];

const redisSchema = z
  .object({
    REDIS_URL: redisEnvFields.REDIS_URL,
    REDIS_CLUSTER_NODES: redisEnvFields.REDIS_CLUSTER_NODES,
    REDIS_SENTINELS: redisEnvFields.REDIS_SENTINELS,
    REDIS_SENTINEL_MASTER: redisEnvFields.REDIS_SENTINEL_MASTER,
    REDIS_SENTINEL_PASSWORD: redisEnvFields.REDIS_SENTINEL_PASSWORD,
    REDIS_USERNAME: redisEnvFields.REDIS_USERNAME,
    REDIS_PASSWORD: redisEnvFields.REDIS_PASSWORD,
    REDIS_TLS: redisEnvFields.REDIS_TLS,
  })
  .superRefine(checkRedisEnv);

/** Printed after the options of a command that connects to Redis. */
const REDIS_HELP = `
Redis is a single node (--redis-url), a Redis Cluster (--redis-cluster-nodes) or a primary watched
by Sentinel (--redis-sentinels with --redis-sentinel-master), as for the apps. Credentials and TLS
come from the environment only: REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS=true and
REDIS_SENTINEL_PASSWORD (the Sentinels' own).`;

/** The commander options for `keys`; their defaults are resolved by parseConnectionConfig. */
export function connectionOptions(...keys: Key[]): Option[] {
  // No commander defaults: an explicit flag, then the variable, then the fallback.
  return keys.flatMap((key) =>
    key === "redis"
      ? redisSources.flatMap(({ option }) =>
          option === undefined ? [] : [new Option(option.flag, option.description)],
        )
      : [new Option(sources[key].flag, sources[key].description)],
  );
}

/** Adds connectionOptions(...keys) to `command`, and how Redis is configured to its --help. */
export function addConnectionOptions(command: Command, ...keys: Key[]): Command {
  for (const option of connectionOptions(...keys)) command.addOption(option);
  if (keys.includes("redis")) command.addHelpText("after", REDIS_HELP);
  return command;
}

/**
 * Flags win over the environment, the environment over the local defaults; an empty variable
 * counts as unset. `redis` follows the apps' rules (checkRedisEnv): one of a URL, cluster nodes
 * or Sentinels, where a flag of one mode overrides the variables of any mode. Every invalid
 * value is named, by its flag or variable, in one CliError CLI_BAD_OPTION (never the value: URLs
 * carry passwords).
 */
export function parseConnectionConfig<K extends Key>(
  keys: readonly K[],
  options: object,
  env: NodeJS.ProcessEnv = process.env,
): Pick<ConnectionConfig, K> {
  const given = options as Record<string, unknown>;
  const config: Partial<Record<Key, unknown>> = {};
  const problems: string[] = [];
  for (const key of keys as readonly Key[]) {
    if (key === "redis") {
      const parsed = parseRedisTarget(given, env);
      if ("problems" in parsed) problems.push(...parsed.problems);
      else config.redis = parsed.target;
      continue;
    }
    const source = sources[key];
    const fromEnv = source.env === undefined ? undefined : env[source.env];
    const [value, origin] =
      given[key] !== undefined
        ? [given[key], source.flag.split(" ")[0] ?? key]
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

const flagName = (option: { flag: string }) => option.flag.split(" ")[0] ?? option.flag;

function parseRedisTarget(
  given: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): { target: RedisTarget } | { problems: string[] } {
  const modeFlags = redisSources.filter(
    (source) => source.mode && source.option && given[source.option.attribute] !== undefined,
  );
  if (modeFlags.length > 1) {
    const names = modeFlags.map(({ option }) => (option ? flagName(option) : ""));
    return {
      problems: [
        `pass one of --redis-url, --redis-cluster-nodes or --redis-sentinels, not ${names.join(" and ")}`,
      ],
    };
  }
  const values: Partial<Record<RedisVariable, string>> = {};
  /** The variables whose value came from a flag, and that flag. */
  const flagged = new Map<string, string>();
  /** What to call a variable a message is about that is not set at all. */
  const unset = new Map<string, string>();
  for (const source of redisSources) {
    const fromFlag = source.option ? given[source.option.attribute] : undefined;
    const fromEnv = env[source.env];
    if (typeof fromFlag === "string" && source.option) {
      values[source.env] = fromFlag;
      flagged.set(source.env, flagName(source.option));
    } else if (fromEnv !== undefined && fromEnv !== "" && !(source.mode && modeFlags.length > 0)) {
      values[source.env] = fromEnv;
    } else if (source.option) {
      unset.set(source.env, `${flagName(source.option)} (or ${source.env})`);
    }
  }
  const parsed = redisSchema.safeParse(values);
  if (parsed.success) return { target: redisTargetOf(parsed.data) };
  return {
    problems: parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "REDIS_URL");
      // checkRedisEnv speaks of variables; say the flags where the values came from flags.
      const message = issue.message.replace(
        /\bREDIS_[A-Z_]+\b/g,
        (variable) => flagged.get(variable) ?? variable,
      );
      if (issue.message.includes(name)) return message;
      return `${flagged.get(name) ?? unset.get(name) ?? name} ${message}`;
    }),
  };
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
