import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasRedisBinaries } from "../src/redis-binaries.ts";
import { startRedisSentinel, type RedisSentinelSetup } from "../src/redis-sentinel.ts";

const hasRedis = hasRedisBinaries();

function sentinelClient(setup: RedisSentinelSetup): Redis {
  const client = new Redis({
    sentinels: setup.sentinelPorts.map((port) => ({ host: "127.0.0.1", port })),
    name: setup.masterName,
  });
  client.on("error", () => undefined);
  return client;
}

describe.skipIf(!hasRedis)("fault: the master watched by one Sentinel is killed", () => {
  let setup: RedisSentinelSetup;
  let client: Redis;
  beforeAll(async () => {
    setup = await startRedisSentinel();
    client = sentinelClient(setup);
  }, 30_000);
  afterAll(async () => {
    client.disconnect();
    await setup.stop();
  });

  it("started → the Sentinel names the master, the REDIS_SENTINELS list has its port", async () => {
    expect(setup.masterName).toBe("fanfare-master");
    expect(setup.sentinels).toBe(`127.0.0.1:${setup.sentinelPorts[0]}`);
    expect(await setup.currentMaster()).toBe(setup.masterPort);
    expect(setup.replicaPort).not.toBe(setup.masterPort);
  });

  it("a key written through a Sentinel client, the master SIGKILLed → the replica is promoted, the key is there, and the same client writes again", async () => {
    await client.set("self-test:sentinel", "before");
    expect(await client.call("WAIT", "1", "1000")).toBe(1);

    const killed = await setup.killMaster();
    const promoted = await setup.waitForFailover(killed);

    expect(killed).toBe(setup.masterPort);
    expect(promoted).toBe(setup.replicaPort);
    expect(await setup.currentMaster()).toBe(promoted);
    expect(await client.get("self-test:sentinel")).toBe("before");
    await client.set("self-test:sentinel", "after");
    expect(await client.get("self-test:sentinel")).toBe("after");
  }, 30_000);

  it("stop twice → the second resolves too", async () => {
    await setup.stop();
    await setup.stop();
  });
});

describe.skipIf(!hasRedis)("fault: the master watched by three Sentinels is killed", () => {
  let setup: RedisSentinelSetup;
  beforeAll(async () => {
    setup = await startRedisSentinel({ sentinels: 3, masterName: "three" });
  }, 30_000);
  afterAll(async () => {
    await setup.stop();
  });

  it("3 Sentinels started → 3 distinct ports, all name the same master", async () => {
    expect(new Set(setup.sentinelPorts).size).toBe(3);
    expect(setup.sentinels.split(",")).toHaveLength(3);
    expect(await setup.currentMaster()).toBe(setup.masterPort);
  });

  it("the master SIGKILLed → all 3 Sentinels agree on the promoted replica", async () => {
    const killed = await setup.killMaster();
    expect(await setup.waitForFailover(killed)).toBe(setup.replicaPort);
    const admin = new Redis({ port: setup.replicaPort, lazyConnect: true });
    try {
      expect(await admin.set("self-test:three", "written")).toBe("OK");
    } finally {
      admin.disconnect();
    }
  }, 30_000);
});
