import { spawnSync } from "node:child_process";

/** The redis-server binary: `REDIS_SERVER_BIN`, else `redis-server` on the PATH. */
export function redisServerBinary(): string {
  return process.env.REDIS_SERVER_BIN ?? "redis-server";
}

/** The redis-cli binary: `REDIS_CLI_BIN`, else `redis-cli` on the PATH. */
export function redisCliBinary(): string {
  return process.env.REDIS_CLI_BIN ?? "redis-cli";
}

/**
 * Whether both redis-server and redis-cli (as `REDIS_SERVER_BIN` / `REDIS_CLI_BIN` name them)
 * run and answer `--version`; tests that start private servers, clusters or Sentinels skip
 * without them. Runs each binary once, synchronously (a few ms), so it fits `describe.skipIf`.
 */
export function hasRedisBinaries(): boolean {
  return [redisServerBinary(), redisCliBinary()].every((binary) => {
    const result = spawnSync(binary, ["--version"], { stdio: "ignore" });
    return result.error === undefined && result.status === 0;
  });
}
