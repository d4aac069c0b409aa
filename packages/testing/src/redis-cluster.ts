import { execFile } from "node:child_process";
import { join } from "node:path";
import { redisCliBinary, redisServerBinary } from "./redis-binaries.ts";
import { NodeClients, parseInfo, pollUntil } from "./redis-polling.ts";
import { baseServerArgs, createRedisProcessGroup, spawnRedis } from "./redis-process.ts";

const SLOTS = 16_384;

/** One node of a test cluster as the cluster itself reports it. */
export interface RedisClusterNode {
  readonly port: number;
  readonly role: "master" | "replica";
  /** The 40-hex node id (CLUSTER MYID). */
  readonly id: string;
  /** For a replica, the port of the master it replicates. */
  readonly masterPort?: number;
}

/** A real Redis Cluster of private redis-server processes on 127.0.0.1. */
export interface RedisCluster {
  /** Every node, as CLUSTER NODES reported it once the cluster was ready (spawn order). */
  readonly nodes: readonly RedisClusterNode[];
  /** The masters as `127.0.0.1:p1,127.0.0.1:p2,…`: the REDIS_CLUSTER_NODES format. */
  readonly seeds: string;
  /** The node serving `slot` (0–16383) now, from CLUSTER SLOTS of the first node that answers. */
  masterOfSlot(slot: number): Promise<{ port: number; id: string }>;
  /** The live view (CLUSTER NODES of the first node that answers), without the failed nodes. */
  readNodes(): Promise<RedisClusterNode[]>;
  /** SIGKILLs the node on `port` and resolves once the process has exited. */
  kill(port: number): Promise<void>;
  /**
   * After `kill(killedPort)` of a master: resolves once every surviving node reports
   * cluster_state:ok, marks the killed node failed, and agrees that all its slots are served by
   * one promoted replica that reports role:master. Needs ≥ 3 masters (a majority must vote).
   * Rejects at once if kill() did not stop it as a master with slots and a replica, else after
   * `timeoutMs` (default 15 000 ms) naming what was still missing.
   */
  waitForFailover(killedPort: number, timeoutMs?: number): Promise<{ newMasterPort: number }>;
  /** Kills every node and removes the temporary directory; safe to call twice. */
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  /** Masters, each serving an even share of the 16 384 slots; default 3. */
  masters?: number;
  /** Replicas of each master; default 0. */
  replicasPerMaster?: number;
  /**
   * cluster-node-timeout in ms; default 1 000. A node unreachable this long is suspected, so a
   * killed master's replica takes over about one to two timeouts later.
   */
  nodeTimeoutMs?: number;
  /** Extra redis-server arguments for every node, appended after the defaults (a later one wins). */
  args?: readonly string[];
  /** The redis-server binary; defaults to `REDIS_SERVER_BIN` or `redis-server` on the PATH. */
  binary?: string;
  /** The redis-cli binary (for `--cluster create`); defaults to `REDIS_CLI_BIN` or `redis-cli`. */
  cliBinary?: string;
  /** How long the whole start may take, in ms; default 30 000. */
  startTimeoutMs?: number;
}

/**
 * Starts a Redis Cluster of `masters × (1 + replicasPerMaster)` redis-server processes on free
 * ports of 127.0.0.1, each with its own explicit cluster bus port, no persistence, and its files in
 * a fresh temporary directory; joins them with `redis-cli --cluster create`. Resolves once every
 * node reports cluster_state:ok with all 16 384 slots assigned, knows every other node, and every
 * replica's link to its master is up, so a `Cluster` client can use it at once. Rejects (after
 * killing what it started) if a node does not start or the cluster is not ready within
 * `startTimeoutMs`. The processes are also killed when the test process exits.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicasPerMaster = options.replicasPerMaster ?? 0;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1_000;
  const binary = options.binary ?? redisServerBinary();
  const cli = options.cliBinary ?? redisCliBinary();
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  if (!Number.isInteger(masters) || masters < 1) throw new Error(`masters must be ≥ 1: ${masters}`);
  if (!Number.isInteger(replicasPerMaster) || replicasPerMaster < 0) {
    throw new Error(`replicasPerMaster must be ≥ 0: ${replicasPerMaster}`);
  }
  const total = masters * (1 + replicasPerMaster);

  const group = await createRedisProcessGroup("fanfare-redis-cluster-");
  const { dir } = group;
  const clients = new NodeClients();
  function stop(): Promise<void> {
    clients.closeAll();
    return group.stop();
  }

  function startNode(): Promise<number> {
    return group.start(async (port) => {
      const busPort = await group.freePort(port);
      return spawnRedis(binary, [
        ...baseServerArgs(port),
        "--cluster-enabled",
        "yes",
        "--cluster-port",
        String(busPort),
        "--cluster-config-file",
        join(dir, `nodes-${port}.conf`),
        "--cluster-node-timeout",
        String(nodeTimeoutMs),
        // Replicas sync at once instead of the default 5 s wait for more replicas.
        "--repl-diskless-sync-delay",
        "0",
        "--dir",
        dir,
        ...(options.args ?? []),
      ]);
    });
  }

  try {
    // One at a time, so no two nodes are handed the same "free" port.
    const ports: number[] = [];
    for (let i = 0; i < total; i++) ports.push(await startNode());
    await run(
      cli,
      [
        "--cluster",
        "create",
        ...ports.map((port) => `127.0.0.1:${port}`),
        "--cluster-replicas",
        String(replicasPerMaster),
        "--cluster-yes",
      ],
      Math.max(1_000, deadline - Date.now()),
    );
    const view = await pollUntil(
      `the cluster of ${total} nodes (${masters} masters) to be ready`,
      deadline,
      async () => {
        let first: ClusterNodesLine[] | undefined;
        for (const port of ports) {
          const info = parseInfo(await clients.text(port, "CLUSTER", "INFO"));
          if (info.cluster_state !== "ok") return `${port}: cluster_state ${info.cluster_state}`;
          if (info.cluster_slots_ok !== String(SLOTS)) {
            return `${port}: cluster_slots_ok ${info.cluster_slots_ok}`;
          }
          if (info.cluster_known_nodes !== String(total)) {
            return `${port}: knows ${info.cluster_known_nodes} nodes`;
          }
          const lines = parseClusterNodes(await clients.text(port, "CLUSTER", "NODES"));
          const odd = lines.find((line) => line.flags.some((flag) => UNSETTLED.has(flag)));
          if (odd) return `${port}: sees ${odd.port} as ${odd.flags.join(",")}`;
          const withSlots = lines.filter((line) => line.role === "master" && line.slots.length > 0);
          const replicas = lines.filter((line) => line.role === "replica");
          if (withSlots.length !== masters || replicas.length !== total - masters) {
            return `${port}: sees ${withSlots.length} masters with slots, ${replicas.length} replicas`;
          }
          const myself = lines.find((line) => line.flags.includes("myself"));
          if (myself?.role === "replica") {
            const replication = parseInfo(await clients.text(port, "INFO", "replication"));
            if (replication.master_link_status !== "up") {
              return `${port}: master_link_status ${replication.master_link_status}`;
            }
          }
          first ??= lines;
        }
        return first ? { value: first } : "no node";
      },
    );
    const byPort = new Map(view.map((line) => [line.port, line]));
    const nodes = ports.map((port) => {
      const line = byPort.get(port);
      if (!line) throw new Error(`node ${port} is missing from CLUSTER NODES`);
      return toNode(line, view);
    });
    const seeds = nodes
      .filter((node) => node.role === "master")
      .map((node) => `127.0.0.1:${node.port}`)
      .join(",");

    /** The slots each killed master served, recorded by kill() for waitForFailover(). */
    const killedMasters = new Map<
      number,
      { id: string; slots: [number, number][]; replicas: number }
    >();

    async function firstAnswer<T>(what: string, ask: (port: number) => Promise<T>): Promise<T> {
      let lastError: unknown;
      for (const port of group.live()) {
        try {
          return await ask(port);
        } catch (error) {
          lastError = error;
        }
      }
      throw new Error(`no cluster node answered ${what}: ${String(lastError)}`);
    }

    return {
      nodes,
      seeds,
      masterOfSlot(slot) {
        if (!Number.isInteger(slot) || slot < 0 || slot >= SLOTS) {
          return Promise.reject(new Error(`slot must be 0–16383: ${slot}`));
        }
        return firstAnswer("CLUSTER SLOTS", async (port) => {
          const ranges = await clients.get(port).call("CLUSTER", "SLOTS");
          for (const range of Array.isArray(ranges) ? (ranges as unknown[]) : []) {
            if (!Array.isArray(range)) continue;
            const [start, end, master] = range as [unknown, unknown, unknown];
            if (Number(start) <= slot && slot <= Number(end) && Array.isArray(master)) {
              return { port: Number(master[1]), id: String(master[2]) };
            }
          }
          throw new Error(`slot ${slot} is not served`);
        });
      },
      async readNodes() {
        const lines = await firstAnswer("CLUSTER NODES", async (port) =>
          parseClusterNodes(await clients.text(port, "CLUSTER", "NODES")),
        );
        return lines.filter((line) => !line.flags.includes("fail")).map((l) => toNode(l, lines));
      },
      async kill(port) {
        if (!group.has(port)) throw new Error(`no cluster node on port ${port}`);
        if (!group.isRunning(port)) return;
        try {
          const lines = parseClusterNodes(await clients.text(port, "CLUSTER", "NODES"));
          const myself = lines.find((line) => line.flags.includes("myself"));
          if (myself?.role === "master" && myself.slots.length > 0) {
            const replicas = lines.filter((line) => line.masterId === myself.id).length;
            killedMasters.set(port, { id: myself.id, slots: myself.slots, replicas });
          }
        } catch {
          // A node that does not answer cannot tell its slots; waitForFailover will say so.
        }
        clients.close(port);
        await group.kill(port);
      },
      async waitForFailover(killedPort, timeoutMs = 15_000) {
        const killed = killedMasters.get(killedPort);
        if (!killed) {
          throw new Error(`${killedPort} was not a master with slots when kill() stopped it`);
        }
        if (killed.replicas === 0) throw new Error(`${killedPort} had no replica to promote`);
        return pollUntil(
          `a replica to take over the slots of ${killedPort}`,
          Date.now() + timeoutMs,
          async () => {
            let agreed: number | undefined;
            for (const port of group.live()) {
              const info = parseInfo(await clients.text(port, "CLUSTER", "INFO"));
              if (info.cluster_state !== "ok")
                return `${port}: cluster_state ${info.cluster_state}`;
              const lines = parseClusterNodes(await clients.text(port, "CLUSTER", "NODES"));
              const dead = lines.find((line) => line.id === killed.id);
              if (dead && !dead.flags.includes("fail")) {
                return `${port}: sees ${killedPort} as ${dead.flags.join(",")}`;
              }
              const owners = new Set(
                killed.slots.map(
                  ([start]) =>
                    lines.find((line) => line.slots.some(([a, b]) => a <= start && start <= b))
                      ?.port,
                ),
              );
              const [owner] = owners;
              if (owners.size !== 1 || owner === undefined || owner === killedPort) {
                return `${port}: sees the slots served by ${[...owners].join(",")}`;
              }
              if (agreed !== undefined && agreed !== owner) {
                return `nodes disagree: ${agreed} and ${owner}`;
              }
              agreed = owner;
            }
            if (agreed === undefined) return "no live node";
            const replication = parseInfo(await clients.text(agreed, "INFO", "replication"));
            if (replication.role !== "master") return `${agreed}: role ${replication.role}`;
            return { value: { newMasterPort: agreed } };
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

/** Flags of a node the cluster has not settled on yet (or considers down). */
const UNSETTLED = new Set(["fail", "fail?", "handshake", "noaddr"]);

interface ClusterNodesLine {
  id: string;
  port: number;
  role: "master" | "replica";
  masterId: string;
  flags: string[];
  slots: [number, number][];
}

/** Parses CLUSTER NODES: `<id> <ip:port@bus[,host]> <flags> <master> … <link> <slot>…`. */
function parseClusterNodes(text: string): ClusterNodesLine[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [id = "", address = "", flagList = "", masterId = "", , , , , ...slotSpecs] =
        line.split(" ");
      const flags = flagList.split(",");
      const slots = slotSpecs
        .filter((spec) => !spec.startsWith("["))
        .map((spec): [number, number] => {
          const [start, end = start] = spec.split("-").map(Number) as [number, number?];
          return [start, end];
        });
      return {
        id,
        port: Number(/:(\d+)@/.exec(address)?.[1]),
        role: flags.includes("slave") ? "replica" : "master",
        masterId,
        flags,
        slots,
      };
    });
}

function toNode(line: ClusterNodesLine, all: readonly ClusterNodesLine[]): RedisClusterNode {
  const master = all.find((other) => other.id === line.masterId);
  return line.role === "replica" && master
    ? { port: line.port, role: line.role, id: line.id, masterPort: master.port }
    : { port: line.port, role: line.role, id: line.id };
}

/** Runs a command to completion; rejects with its output when it fails or takes too long. */
function run(command: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) {
        reject(
          new Error(`${command} ${args.join(" ")} failed: ${error.message}\n${stdout}${stderr}`),
        );
      } else {
        resolve(stdout);
      }
    });
  });
}
