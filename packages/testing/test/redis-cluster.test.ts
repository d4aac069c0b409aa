import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasRedisBinaries } from "../src/redis-binaries.ts";
import { startRedisCluster, type RedisCluster } from "../src/redis-cluster.ts";

const hasRedis = hasRedisBinaries();

function clusterClient(cluster: RedisCluster): Cluster {
  const client = new Cluster(
    cluster.seeds
      .split(",")
      .map((seed) => ({ host: "127.0.0.1", port: Number(seed.split(":")[1]) })),
  );
  client.on("error", () => undefined);
  return client;
}

async function keySlot(cluster: RedisCluster, key: string): Promise<number> {
  const [anyNode] = cluster.nodes;
  const admin = new Redis({ port: anyNode?.port ?? 0, lazyConnect: true });
  try {
    return Number(await admin.call("CLUSTER", "KEYSLOT", key));
  } finally {
    admin.disconnect();
  }
}

describe.skipIf(!hasRedis)("guarantee: a started Redis Cluster serves every slot", () => {
  let cluster: RedisCluster;
  let client: Cluster;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = clusterClient(cluster);
  }, 30_000);
  afterAll(async () => {
    client.disconnect();
    await cluster.stop();
  });

  it("3 masters started → 3 master nodes, seeds list them, each owns a share of the slots", async () => {
    expect(cluster.nodes).toHaveLength(3);
    expect(cluster.nodes.every((node) => node.role === "master")).toBe(true);
    expect(cluster.seeds).toBe(cluster.nodes.map((node) => `127.0.0.1:${node.port}`).join(","));
    const owners = await Promise.all([0, 8_000, 16_383].map((slot) => cluster.masterOfSlot(slot)));
    expect(new Set(owners.map((owner) => owner.port)).size).toBe(3);
  });

  it("keys set through a Cluster client until each master holds one → each is read back, and its own master has it", async () => {
    const keyOf = new Map<number, string>();
    for (let i = 0; keyOf.size < 3 && i < 100; i++) {
      const key = `self-test:${i}`;
      const { port } = await cluster.masterOfSlot(await keySlot(cluster, key));
      if (!keyOf.has(port)) keyOf.set(port, key);
    }
    expect(keyOf.size).toBe(3);
    for (const [port, key] of keyOf) {
      await client.set(key, `on ${port}`);
      expect(await client.get(key)).toBe(`on ${port}`);
      const direct = new Redis({ port, lazyConnect: true });
      try {
        expect(await direct.get(key)).toBe(`on ${port}`);
      } finally {
        direct.disconnect();
      }
    }
  });

  it("a master without replica killed, then stop twice → waitForFailover rejects at once, both stops resolve, and no node accepts connections", async () => {
    const small = await startRedisCluster({ masters: 3 });
    const [first] = small.nodes;
    const port = first?.port ?? 0;
    await small.kill(port);
    await expect(small.waitForFailover(port)).rejects.toThrow(/had no replica to promote/);
    await small.stop();
    await small.stop();
    for (const node of small.nodes) {
      const probe = new Redis({ port: node.port, lazyConnect: true, retryStrategy: () => null });
      probe.on("error", () => undefined);
      await expect(probe.connect()).rejects.toThrow();
      probe.disconnect();
    }
  }, 30_000);
});

describe.skipIf(!hasRedis)("fault: a Redis Cluster master is killed", () => {
  let cluster: RedisCluster;
  let client: Cluster;
  beforeAll(async () => {
    cluster = await startRedisCluster({ replicasPerMaster: 1 });
    client = clusterClient(cluster);
  }, 30_000);
  afterAll(async () => {
    client.disconnect();
    await cluster.stop();
  });

  it("3 masters with 1 replica each → 6 nodes, every replica names a master", () => {
    const masters = cluster.nodes.filter((node) => node.role === "master");
    const replicas = cluster.nodes.filter((node) => node.role === "replica");
    expect(masters).toHaveLength(3);
    expect(replicas).toHaveLength(3);
    expect(new Set(replicas.map((node) => node.masterPort))).toEqual(
      new Set(masters.map((node) => node.port)),
    );
  });

  it("the master of a replicated key is SIGKILLed → its replica takes the slots, and the key is read and written through the same client", async () => {
    const key = "self-test:failover";
    await client.set(key, "before");
    const slot = await keySlot(cluster, key);
    const master = await cluster.masterOfSlot(slot);
    const direct = new Redis({ port: master.port, lazyConnect: true });
    try {
      expect(await direct.call("WAIT", "1", "1000")).toBe(1);
    } finally {
      direct.disconnect();
    }
    const replica = cluster.nodes.find((node) => node.masterPort === master.port);

    await cluster.kill(master.port);
    const { newMasterPort } = await cluster.waitForFailover(master.port);

    expect(newMasterPort).toBe(replica?.port);
    expect((await cluster.masterOfSlot(slot)).port).toBe(newMasterPort);
    expect(await client.get(key)).toBe("before");
    await client.set(key, "after");
    expect(await client.get(key)).toBe("after");
    const live = await cluster.readNodes();
    expect(live.map((node) => node.port)).not.toContain(master.port);
    expect(live.find((node) => node.port === newMasterPort)?.role).toBe("master");
  }, 30_000);

  it("waitForFailover of a port that kill() did not stop as a master → rejects naming it", async () => {
    await expect(cluster.waitForFailover(1)).rejects.toThrow(/1 was not a master/);
  });
});
