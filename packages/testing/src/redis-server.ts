import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { freePort } from "./free-port.ts";

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
 * (the older form) or options with extra arguments. `stop` kills it; `start` runs it again on the
 * same port with the same arguments.
 */
export async function startRedisServer(
  binaryOrOptions: string | RedisServerOptions = {},
): Promise<RedisServer> {
  const options =
    typeof binaryOrOptions === "string" ? { binary: binaryOrOptions } : binaryOrOptions;
  const binary = options.binary ?? process.env.REDIS_SERVER_BIN ?? "redis-server";
  const extraArgs = options.args ?? [];
  const port = await freePort();
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    const proc = spawn(
      binary,
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        ...extraArgs,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child = proc;
    await new Promise<void>((resolve, reject) => {
      let output = "";
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("Ready to accept connections")) {
          proc.stdout.off("data", onData);
          resolve();
        }
      };
      proc.stdout.on("data", onData);
      proc.once("error", reject);
      proc.once("exit", (code) => {
        reject(new Error(`redis-server exited with ${code}: ${output}`));
      });
    });
  }

  async function stop(): Promise<void> {
    const proc = child;
    child = undefined;
    if (proc?.exitCode !== null) return;
    const exited = once(proc, "exit");
    proc.kill("SIGKILL");
    await exited;
  }

  await start();
  return { port, url: `redis://127.0.0.1:${port}`, start, stop };
}
