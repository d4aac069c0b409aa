import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { rmSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { freePort } from "./free-port.ts";

const POLL_MS = 50;

/** A real master, its replica and Sentinels watching them: private processes on 127.0.0.1. */
export interface RedisSentinelSetup {
  /** The name the Sentinels monitor the master under (for `new Redis({ sentinels, name })`). */
  readonly masterName: string;
  /** The Sentinels as `127.0.0.1:p1,127.0.0.1:p2,…`: the REDIS_SENTINELS format. */
  readonly sentinels: string;
  readonly sentinelPorts: readonly number[];
  /** The master at start; after a failover, `currentMaster()` tells the new one. */
  readonly masterPort: number;
  /** The replica at start. */
  readonly replicaPort: number;
  /** The master's port now, by SENTINEL GET-MASTER-ADDR-BY-NAME of the first Sentinel that answers. */
  currentMaster(): Promise<number>;
  /** SIGKILLs the current master (as the Sentinels name it), waits for its exit, returns its port. */
  killMaster(): Promise<number>;
  /**
   * Resolves with the new master's port once every running Sentinel names a master other than
   * `oldMasterPort` (the same one) and that node reports role:master. Rejects after `timeoutMs`
   * (default 15 000 ms) naming what was still missing.
   */
  waitForFailover(oldMasterPort: number, timeoutMs?: number): Promise<number>;
  /** Kills every process and removes the temporary directory; safe to call twice. */
  stop(): Promise<void>;
}

export interface RedisSentinelOptions {
  /** How many Sentinels; default 1. The quorum is a majority: 1 of 1, 2 of 3. */
  sentinels?: number;
  /** `sentinel down-after-milliseconds`: how long the master may not answer, in ms; default 1 000. */
  downAfterMs?: number;
  /** `sentinel failover-timeout` in ms; default 5 000 (a retried failover waits twice this). */
  failoverTimeoutMs?: number;
  /** The monitored name; default "fanfare-master". */
  masterName?: string;
  /** The redis-server binary (run with `--sentinel` for the Sentinels); defaults to `REDIS_SERVER_BIN` or `redis-server`. */
  binary?: string;
  /** How long the whole start may take, in ms; default 30 000. */
  startTimeoutMs?: number;
}

/**
 * Starts a redis-server master and one replica of it (`--replicaof`) on free ports of 127.0.0.1,
 * without persistence, waits until the replica's link is up, then starts `sentinels` Sentinels
 * (`redis-server <conf> --sentinel`), each with its own rewritable config file in a fresh temporary
 * directory. Resolves once every Sentinel sees the master up, lists the replica as connected, and
 * knows each other Sentinel. Rejects (after killing what it started) if a process does not start
 * or the setup is not ready within `startTimeoutMs`. The processes are also killed when the test
 * process exits.
 */
export async function startRedisSentinel(
  options: RedisSentinelOptions = {},
): Promise<RedisSentinelSetup> {
  const count = options.sentinels ?? 1;
  const downAfterMs = options.downAfterMs ?? 1_000;
  const failoverTimeoutMs = options.failoverTimeoutMs ?? 5_000;
  const masterName = options.masterName ?? "fanfare-master";
  const binary = options.binary ?? process.env.REDIS_SERVER_BIN ?? "redis-server";
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  if (!Number.isInteger(count) || count < 1) throw new Error(`sentinels must be ≥ 1: ${count}`);
  const quorum = Math.floor(count / 2) + 1;

  const dir = await mkdtemp(join(tmpdir(), "fanfare-redis-sentinel-"));
  const children = new Map<number, ChildProcess>();
  const clients = new NodeClients();
  // Sync, because "exit" listeners cannot wait: a test process that dies without stop() must
  // not leave Redis or Sentinel processes running.
  const onExit = () => {
    for (const child of children.values()) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", onExit);

  let stopping: Promise<void> | undefined;
  function stop(): Promise<void> {
    stopping ??= (async () => {
      clients.closeAll();
      await Promise.all([...children.values()].map(killChild));
      process.off("exit", onExit);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  }

  /** Starts a process on a port it picks, with fresh ports if the first one is taken meanwhile. */
  async function startProcess(start: (port: number) => Promise<ChildProcess>): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      let port = await freePort();
      while (children.has(port)) port = await freePort();
      try {
        children.set(port, await start(port));
        return port;
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
  }

  const serverArgs = (port: number) => [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    // The replica syncs at once instead of the default 5 s wait for more replicas.
    "--repl-diskless-sync-delay",
    "0",
    "--dir",
    dir,
  ];
  const live = (ports: readonly number[]) =>
    ports.filter((port) => {
      const child = children.get(port);
      return child !== undefined && isRunning(child);
    });

  try {
    const masterPort = await startProcess((port) =>
      spawnRedis(binary, serverArgs(port), "Ready to accept connections"),
    );
    const replicaPort = await startProcess((port) =>
      spawnRedis(
        binary,
        [...serverArgs(port), "--replicaof", "127.0.0.1", String(masterPort)],
        "Ready to accept connections",
      ),
    );
    await pollUntil(`replica ${replicaPort} to sync with ${masterPort}`, deadline, async () => {
      const replication = parseInfo(await clients.text(replicaPort, "INFO", "replication"));
      return replication.master_link_status === "up"
        ? { value: undefined }
        : `master_link_status ${replication.master_link_status}`;
    });

    const sentinelPorts: number[] = [];
    for (let i = 0; i < count; i++) {
      sentinelPorts.push(
        await startProcess(async (port) => {
          const config = join(dir, `sentinel-${port}.conf`);
          await writeFile(
            config,
            [
              `port ${port}`,
              "bind 127.0.0.1",
              `dir ${dir}`,
              `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} ${quorum}`,
              `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
              `sentinel failover-timeout ${masterName} ${failoverTimeoutMs}`,
              `sentinel parallel-syncs ${masterName} 1`,
              "",
            ].join("\n"),
          );
          // Sentinel mode logs no "Ready to accept connections"; it listens before this line.
          return spawnRedis(binary, [config, "--sentinel"], "Sentinel ID is");
        }),
      );
    }

    await pollUntil(
      `${count} Sentinel(s) to know the master, the replica and each other`,
      deadline,
      async () => {
        for (const port of sentinelPorts) {
          const master = pairs(await clients.get(port).call("SENTINEL", "MASTER", masterName));
          if (master.flags !== "master") return `${port}: master flags ${master.flags}`;
          if (master["num-other-sentinels"] !== String(count - 1)) {
            return `${port}: knows ${master["num-other-sentinels"]} other Sentinels`;
          }
          const replicas = await clients.get(port).call("SENTINEL", "REPLICAS", masterName);
          const replica = (Array.isArray(replicas) ? replicas : [])
            .map(pairs)
            .find((fields) => fields.port === String(replicaPort));
          if (replica?.flags !== "slave" || replica["master-link-status"] !== "ok") {
            return `${port}: replica ${replicaPort} is ${replica ? replica.flags : "unknown"}`;
          }
        }
        return { value: undefined };
      },
    );

    async function currentMaster(): Promise<number> {
      let lastError: unknown;
      for (const port of live(sentinelPorts)) {
        try {
          return await masterAddress(port);
        } catch (error) {
          lastError = error;
        }
      }
      throw new Error(`no Sentinel answered GET-MASTER-ADDR-BY-NAME: ${String(lastError)}`);
    }

    async function masterAddress(sentinelPort: number): Promise<number> {
      const reply = await clients
        .get(sentinelPort)
        .call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName);
      if (!Array.isArray(reply)) throw new Error(`${sentinelPort} does not know ${masterName}`);
      return Number(reply[1]);
    }

    return {
      masterName,
      sentinels: sentinelPorts.map((port) => `127.0.0.1:${port}`).join(","),
      sentinelPorts,
      masterPort,
      replicaPort,
      currentMaster,
      async killMaster() {
        const port = await currentMaster();
        const child = children.get(port);
        if (!child) throw new Error(`the master ${port} is not a process of this setup`);
        clients.close(port);
        await killChild(child);
        return port;
      },
      waitForFailover(oldMasterPort, timeoutMs = 15_000) {
        return pollUntil(
          `the Sentinels to promote a new master in place of ${oldMasterPort}`,
          Date.now() + timeoutMs,
          async () => {
            const named = new Set<number>();
            for (const port of live(sentinelPorts)) named.add(await masterAddress(port));
            const [newMaster] = named;
            if (named.size !== 1 || newMaster === undefined || newMaster === oldMasterPort) {
              return `Sentinels name ${[...named].join(",")}`;
            }
            const replication = parseInfo(await clients.text(newMaster, "INFO", "replication"));
            return replication.role === "master"
              ? { value: newMaster }
              : `${newMaster}: role ${replication.role}`;
          },
        );
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A flat `[key, value, key, value, …]` reply (SENTINEL MASTER, SENTINEL REPLICAS entries). */
function pairs(reply: unknown): Record<string, string | undefined> {
  const fields: Record<string, string> = {};
  if (!Array.isArray(reply)) return fields;
  for (let i = 0; i + 1 < reply.length; i += 2) fields[String(reply[i])] = String(reply[i + 1]);
  return fields;
}

/** `key:value` lines of INFO. */
function parseInfo(text: string): Record<string, string | undefined> {
  const fields: Record<string, string> = {};
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

/**
 * One connection per process for polling. No reconnecting: a dead process fails fast, and the
 * next call opens a fresh connection.
 */
class NodeClients {
  readonly #clients = new Map<number, Redis>();

  get(port: number): Redis {
    const existing = this.#clients.get(port);
    if (existing && existing.status !== "end") return existing;
    const client = new Redis({
      host: "127.0.0.1",
      port,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      connectTimeout: 1_000,
      commandTimeout: 2_000,
    });
    client.on("error", () => undefined);
    this.#clients.set(port, client);
    return client;
  }

  async text(port: number, command: string, ...args: string[]): Promise<string> {
    const reply = await this.get(port).call(command, ...args);
    if (typeof reply !== "string") throw new Error(`${command} answered ${typeof reply}`);
    return reply;
  }

  close(port: number): void {
    this.#clients.get(port)?.disconnect();
    this.#clients.delete(port);
  }

  closeAll(): void {
    for (const port of [...this.#clients.keys()]) this.close(port);
  }
}

/**
 * Calls `check` every 50 ms until it returns `{ value }`; a string or a thrown error is the reason
 * it is not there yet, and the last one ends up in the timeout error.
 */
async function pollUntil<T>(
  what: string,
  deadline: number,
  check: () => Promise<{ value: T } | string>,
): Promise<T> {
  let reason = "not checked yet";
  for (;;) {
    try {
      const result = await check();
      if (typeof result !== "string") return result.value;
      reason = result;
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) throw new Error(`timed out waiting for ${what}: ${reason}`);
    await sleep(POLL_MS);
  }
}

/** Spawns redis-server and resolves once its log shows `readyLine`. */
async function spawnRedis(
  binary: string,
  args: readonly string[],
  readyLine: string,
): Promise<ChildProcess> {
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
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

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

async function killChild(child: ChildProcess): Promise<void> {
  // No pid: the spawn itself failed (e.g. no such binary), so there is nothing to wait for.
  if (child.pid === undefined || !isRunning(child)) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}
