import { startRedisServer, type RedisServer } from "@fanfare-relay/testing/redis-server";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ConfiguredRedis {
  server: RedisServer;
  stop(): Promise<void>;
}

/**
 * startRedisServer with extra redis-server arguments: it takes the binary to run, so we hand it a
 * script that adds ours after its own (for redis-server the last value of a setting wins). The
 * server's files (an AOF) go to a temporary directory, not the working directory.
 */
export async function startConfiguredRedis(args: readonly string[]): Promise<ConfiguredRedis> {
  const dir = await mkdtemp(join(tmpdir(), "fanfare-cli-redis-"));
  const binary = process.env.REDIS_SERVER_BIN ?? "redis-server";
  const quoted = [...args, "--dir", dir].map((arg) => `'${arg.replaceAll("'", `'\\''`)}'`);
  const script = join(dir, "redis-server.sh");
  await writeFile(script, `#!/bin/sh\nexec '${binary}' "$@" ${quoted.join(" ")}\n`);
  await chmod(script, 0o755);
  const server = await startRedisServer(script);
  return {
    server,
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** What docker-compose.yml configures: the setup doctor must call healthy. */
export const HEALTHY_REDIS = ["--maxmemory-policy", "noeviction", "--appendonly", "yes"];
/** A cache-style Redis: evicts keys and keeps nothing across a crash. */
export const CACHE_REDIS = ["--maxmemory-policy", "allkeys-lru"];
