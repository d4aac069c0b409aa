import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { redisServerBinary } from "./redis-binaries.ts";
import { NodeClients, parseInfo, pollUntil } from "./redis-polling.ts";
import { baseServerArgs, createRedisProcessGroup, spawnRedis } from "./redis-process.ts";

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
  const binary = options.binary ?? redisServerBinary();
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  if (!Number.isInteger(count) || count < 1) throw new Error(`sentinels must be ≥ 1: ${count}`);
  const quorum = Math.floor(count / 2) + 1;

  const group = await createRedisProcessGroup("fanfare-redis-sentinel-");
  const { dir } = group;
  const clients = new NodeClients();
  function stop(): Promise<void> {
    clients.closeAll();
    return group.stop();
  }

  const serverArgs = (port: number) => [
    ...baseServerArgs(port),
    // The replica syncs at once instead of the default 5 s wait for more replicas.
    "--repl-diskless-sync-delay",
    "0",
    "--dir",
    dir,
  ];
  const live = (ports: readonly number[]) => ports.filter((port) => group.isRunning(port));

  try {
    const masterPort = await group.start((port) => spawnRedis(binary, serverArgs(port)));
    const replicaPort = await group.start((port) =>
      spawnRedis(binary, [...serverArgs(port), "--replicaof", "127.0.0.1", String(masterPort)]),
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
        await group.start(async (port) => {
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
        if (!group.has(port)) throw new Error(`the master ${port} is not a process of this setup`);
        clients.close(port);
        await group.kill(port);
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
