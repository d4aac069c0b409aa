import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";

/** The repository root, two levels above this file (packages/cli/src). */
export const REPOSITORY_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface EnvFiles {
  /** The file read (absolute path), or undefined when `dir` has neither. */
  file: string | undefined;
  /** Its variables as parsed by Node's util.parseEnv; {} without a file. */
  values: Record<string, string>;
}

/**
 * `dir`'s `.env`, else its `.env.example`, parsed as `pnpm start` (scripts/start.mjs) does: only
 * the first file that exists counts, never both. Throws what readFileSync throws for an
 * unreadable file.
 */
export function loadEnvFiles(dir: string): EnvFiles {
  const file = [".env", ".env.example"].map((name) => join(dir, name)).find(existsSync);
  return file === undefined
    ? { file: undefined, values: {} }
    : { file, values: parseEnv(readFileSync(file, "utf8")) as Record<string, string> };
}

/**
 * `pnpm start`'s key prefix when REDIS_PREFIX is unset (scripts/start-config.mjs's LOCAL_PREFIX;
 * a test checks they agree).
 */
export const LOCAL_PREFIX = "fanfare-local";

/** The variables that say where Redis is: only one of them may be set. */
const REDIS_MODES = ["REDIS_URL", "REDIS_CLUSTER_NODES", "REDIS_SENTINELS"];

/**
 * The environment the CLI resolves its configuration from: the process environment over the
 * variables of loadEnvFiles(dir), as for `pnpm start` (a variable set in the environment wins,
 * even when empty). When a file was read and neither it nor the environment sets REDIS_PREFIX
 * (unset or empty), it is LOCAL_PREFIX, as for `pnpm start`: the CLI then sees the queues the
 * local system uses. Without either file the CLI's own default applies (the apps' `fanfare`).
 */
export function cliEnv(
  dir: string = REPOSITORY_ROOT,
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const { file, values } = loadEnvFiles(dir);
  // Where Redis is, is one choice (as in pnpm start): one exported in the environment replaces
  // the file's rather than joining it.
  if (REDIS_MODES.some((name) => env[name])) {
    for (const name of REDIS_MODES) Reflect.deleteProperty(values, name);
  }
  const merged = { ...values, ...env };
  if (file !== undefined && !merged.REDIS_PREFIX) merged.REDIS_PREFIX = LOCAL_PREFIX;
  return merged;
}
