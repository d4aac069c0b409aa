import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.ts";

/** What redis-server logs once it accepts connections (a Sentinel logs no such line). */
export const READY_LINE = "Ready to accept connections";

/** How many fresh ports a group tries before a start fails. */
const START_ATTEMPTS = 3;

/** The arguments every private test redis-server starts with: `port` on 127.0.0.1, no persistence. */
export function baseServerArgs(port: number): string[] {
  return ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
}

/** Every spawned process still running and every group directory, for the exit hook. */
const running = new Set<ChildProcess>();
const groupDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Sync, because "exit" listeners cannot wait: a test process that dies without stop() must
  // not leave redis-server processes running. One listener for all, so many servers do not trip
  // the max-listeners warning.
  process.on("exit", () => {
    for (const child of running) child.kill("SIGKILL");
    for (const dir of groupDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/**
 * Spawns `binary` with `args` and resolves once its log shows `readyLine` (default: redis-server's
 * "Ready to accept connections"). Rejects, after killing it, if it exits first or cannot be
 * spawned (e.g. no such binary); the error carries the last 4 000 characters of its output.
 * The process is SIGKILLed if the test process exits while it runs.
 */
export async function spawnRedis(
  binary: string,
  args: readonly string[],
  readyLine = READY_LINE,
): Promise<ChildProcess> {
  installExitHook();
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  // No pid: the spawn itself failed; "error" follows and nothing runs.
  if (child.pid !== undefined) {
    running.add(child);
    child.once("exit", () => running.delete(child));
  }
  let output = "";
  // Keep reading (a full pipe would block redis-server's logging) but keep only the tail.
  const onData = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  try {
    await new Promise<void>((resolve, reject) => {
      const onReady = () => {
        if (output.includes(readyLine)) {
          child.stdout.off("data", onReady);
          resolve();
        }
      };
      child.stdout.on("data", onReady);
      child.once("error", reject);
      child.once("exit", (code, signal) => {
        reject(new Error(`redis-server exited with ${code ?? signal}: ${output}`));
      });
    });
  } catch (error) {
    await killChild(child);
    throw error;
  }
  return child;
}

/** Whether `child` has neither exited nor been ended by a signal. */
export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGKILLs `child` and resolves once it has exited; at once if it is not running. */
export async function killChild(child: ChildProcess): Promise<void> {
  // No pid: the spawn itself failed, so there is nothing to wait for.
  if (child.pid === undefined || !isRunning(child)) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

/** Private redis-server processes keyed by port, sharing one fresh temporary directory. */
export interface RedisProcessGroup {
  /** The temporary directory, for config, node and dump files; removed by stop(). */
  readonly dir: string;
  /** Whether a process of the group runs on `port`, or did. */
  has(port: number): boolean;
  /** Whether the process on `port` still runs; false for a port not of this group. */
  isRunning(port: number): boolean;
  /** Ports whose process still runs, in start order. */
  live(): number[];
  /** A port of 127.0.0.1 free a moment ago, none of this group's and none of `others`. */
  freePort(...others: number[]): Promise<number>;
  /**
   * Picks a free port and keeps the process `start(port)` resolves with (from spawnRedis) under
   * it. A picked port can be taken before the process binds it, so a failed start is retried on
   * fresh ports, 3 attempts in all; then rejects with the last error. Resolves with the port.
   */
  start(start: (port: number) => Promise<ChildProcess>): Promise<number>;
  /** SIGKILLs the process on `port` and resolves once it has exited; rejects for a foreign port. */
  kill(port: number): Promise<void>;
  /** Kills every process and removes the directory; safe to call twice (same promise). */
  stop(): Promise<void>;
}

/**
 * Creates an empty group with a fresh directory `<tmpdir>/<prefix>XXXXXX`; its processes and
 * directory are also removed when the test process exits.
 */
export async function createRedisProcessGroup(prefix: string): Promise<RedisProcessGroup> {
  installExitHook();
  const dir = await mkdtemp(join(tmpdir(), prefix));
  groupDirs.add(dir);
  const children = new Map<number, ChildProcess>();
  let stopping: Promise<void> | undefined;

  async function pickPort(others: readonly number[]): Promise<number> {
    let port = await freePort();
    while (children.has(port) || others.includes(port)) port = await freePort();
    return port;
  }

  return {
    dir,
    has: (port) => children.has(port),
    isRunning(port) {
      const child = children.get(port);
      return child !== undefined && isRunning(child);
    },
    live: () => [...children].filter(([, child]) => isRunning(child)).map(([port]) => port),
    freePort: (...others) => pickPort(others),
    async start(start) {
      for (let attempt = 1; ; attempt++) {
        const port = await pickPort([]);
        try {
          children.set(port, await start(port));
          return port;
        } catch (error) {
          if (attempt >= START_ATTEMPTS) throw error;
        }
      }
    },
    async kill(port) {
      const child = children.get(port);
      if (!child) throw new Error(`no process of this group on port ${port}`);
      await killChild(child);
    },
    stop() {
      stopping ??= (async () => {
        await Promise.all([...children.values()].map(killChild));
        await rm(dir, { recursive: true, force: true });
        groupDirs.delete(dir);
      })();
      return stopping;
    },
  };
}
