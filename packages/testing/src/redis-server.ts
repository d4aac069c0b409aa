import type { ChildProcess } from "node:child_process";
import { freePort } from "./free-port.ts";
import { redisServerBinary } from "./redis-binaries.ts";
import { baseServerArgs, killChild, spawnRedis } from "./redis-process.ts";

/** A private, disposable redis-server for tests that stop, pause or restart Redis. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface RedisServerOptions {
  /** The redis-server binary; defaults to `REDIS_SERVER_BIN` or `redis-server` on the PATH. */
  binary?: string;
  /**
   * Extra redis-server arguments, appended after the defaults (a later one wins), e.g.
   * `["--maxmemory", "3mb", "--maxmemory-policy", "allkeys-lru"]` or
   * `["--rename-command", "CONFIG", ""]`.
   */
  args?: readonly string[];
}

/**
 * Starts a redis-server on a free port of 127.0.0.1, without persistence. Takes the binary to run
 * (the older form) or options with extra arguments. `stop` SIGKILLs it and resolves once it has
 * exited (at once if it already has, by whatever cause); `start` runs it again on the same port
 * with the same arguments. Rejects if redis-server exits before it accepts connections.
 */
export async function startRedisServer(
  binaryOrOptions: string | RedisServerOptions = {},
): Promise<RedisServer> {
  const options =
    typeof binaryOrOptions === "string" ? { binary: binaryOrOptions } : binaryOrOptions;
  const binary = options.binary ?? redisServerBinary();
  const extraArgs = options.args ?? [];
  const port = await freePort();
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    child = await spawnRedis(binary, [...baseServerArgs(port), ...extraArgs]);
  }

  async function stop(): Promise<void> {
    const proc = child;
    child = undefined;
    // killChild also returns at once for a process already ended by a signal, whose "exit"
    // has fired (exitCode stays null then).
    if (proc) await killChild(proc);
  }

  await start();
  return { port, url: `redis://127.0.0.1:${port}`, start, stop };
}
