import type { RedisTarget } from "@fanfare-relay/queues/redis-target";
import { createTestDatabase, type TestDatabase } from "@fanfare-relay/testing/postgres";
import { hasRedisBinaries } from "@fanfare-relay/testing/redis-binaries";
import { startRedisCluster, type RedisCluster } from "@fanfare-relay/testing/redis-cluster";
import { startSmtpCatcher, type SmtpCatcher } from "@fanfare-relay/testing/smtp-catcher";
import {
  createWorkerHarness,
  sampleEvent,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { runCli } from "./capture-cli.ts";
import { switchedHandlers, type Switchboard } from "./dead-letters-handlers.ts";
import { SECRET, startIngest, startWorkers } from "./simulate-relay.ts";

const hasRedis = hasRedisBinaries();

/** `[status, name, detail]` per check, advice lines left out. */
const checks = (stdout: string) =>
  stdout
    .split("\n")
    .filter((line) => /^(ok|warn|fail) /.test(line))
    .map((line) => line.split(/ {2,}/));

describe.skipIf(!hasRedis)("guarantee: the CLI on a 3-master Redis Cluster", () => {
  let cluster: RedisCluster;
  let target: RedisTarget;
  let database: TestDatabase;
  let smtp: SmtpCatcher;
  /** A plain connection to each master, for CONFIG SET and CLUSTER commands. */
  const admins = new Map<string, Redis>();
  const masters = () => [...admins.entries()];

  beforeAll(async () => {
    [cluster, database, smtp] = await Promise.all([
      startRedisCluster(),
      createTestDatabase("cli_cluster"),
      startSmtpCatcher(),
    ]);
    target = {
      mode: "cluster",
      nodes: cluster.seeds.split(",").map((seed) => {
        const [host = "", port = ""] = seed.split(":");
        return { host, port: Number(port) };
      }),
    };
    for (const seed of cluster.seeds.split(",")) {
      const admin = new Redis({ port: Number(seed.split(":")[1]), maxRetriesPerRequest: 1 });
      admin.on("error", () => undefined);
      admins.set(seed, admin);
    }
  }, 60_000);
  afterAll(async () => {
    for (const admin of admins.values()) admin.disconnect();
    await Promise.all([cluster.stop(), database.drop(), smtp.stop()]);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  const doctor = (...args: string[]) =>
    runCli([
      "doctor",
      "--database-url",
      database.url,
      "--smtp-url",
      smtp.url,
      "--timeout",
      "3",
      ...args,
    ]);

  describe("doctor", () => {
    it("REDIS_CLUSTER_NODES, 3 masters without AOF or RDB, FANFARE_DEV=true → cluster mode, every master checked, one warning each, exit 0", async () => {
      vi.stubEnv("REDIS_CLUSTER_NODES", cluster.seeds);
      vi.stubEnv("FANFARE_WEBHOOK_SECRETS", "whsec_from_the_dashboard");
      vi.stubEnv("FANFARE_DEV", "true");
      const run = await doctor();
      expect(run.error).toBeUndefined();
      const results = checks(run.stdout);
      expect(results[0]).toEqual([
        "ok",
        "redis cluster",
        "Redis Cluster, 3 masters (+0 replicas), cluster_state ok",
      ]);
      for (const [seed] of masters()) {
        expect(results).toContainEqual(["ok", "redis", expect.stringMatching(` at ${seed}$`)]);
        expect(results).toContainEqual([
          "ok",
          "redis eviction",
          `${seed}: maxmemory-policy noeviction`,
        ]);
        expect(results).toContainEqual([
          "warn",
          "redis persistence",
          expect.stringMatching(`^${seed}: AOF disabled`),
        ]);
      }
      expect(results.map(([status, name]) => `${status ?? ""} ${name ?? ""}`)).toEqual([
        "ok redis cluster",
        ...masters().flatMap(() => ["ok redis", "ok redis eviction", "warn redis persistence"]),
        "ok postgres",
        "ok migrations",
        "ok smtp",
        "ok webhook secret",
      ]);
      expect(run.stdout).toMatch(/\nall checks passed, 3 warnings\n$/);
    });

    it("3 masters without AOF or RDB, not a dev box → one failed persistence line per master naming it, exit 1", async () => {
      vi.stubEnv("FANFARE_WEBHOOK_SECRETS", "whsec_from_the_dashboard");
      const run = await doctor("--redis-cluster-nodes", cluster.seeds);
      const persistence = checks(run.stdout).filter(([, name]) => name === "redis persistence");
      expect(persistence).toHaveLength(3);
      expect(persistence).toEqual(
        expect.arrayContaining(
          masters().map(([seed]): unknown[] => [
            "fail",
            "redis persistence",
            expect.stringMatching(`^${seed}: AOF disabled and no RDB snapshots`) as unknown,
          ]),
        ),
      );
      expect(run.stdout).toContain("pass --dev (or FANFARE_DEV=true)");
      expect(run.error).toMatchObject({ code: "CLI_DOCTOR_FAILED", message: "3 checks failed" });
    });

    it("allkeys-lru on one master → doctor fails naming that node, the other masters ok", async () => {
      const [[seed, admin], ...others] = masters() as [[string, Redis], ...[string, Redis][]];
      await admin.config("SET", "maxmemory-policy", "allkeys-lru");
      try {
        const run = await doctor("--redis-cluster-nodes", cluster.seeds, "--dev");
        const eviction = checks(run.stdout).filter(([, name]) => name === "redis eviction");
        expect(eviction).toEqual(
          expect.arrayContaining([
            [
              "fail",
              "redis eviction",
              expect.stringMatching(`^${seed}: maxmemory-policy is allkeys-lru`),
            ],
            ...others.map(([other]) => [
              "ok",
              "redis eviction",
              `${other}: maxmemory-policy noeviction`,
            ]),
          ]),
        );
        expect(eviction).toHaveLength(3);
        expect(run.stdout).toContain("→ run `CONFIG SET maxmemory-policy noeviction`");
        expect(run.error).toMatchObject({
          code: "CLI_DOCTOR_FAILED",
          message: expect.stringMatching(/^1 check failed/),
        });
      } finally {
        await admin.config("SET", "maxmemory-policy", "noeviction");
      }
    });

    it("appendonly yes on every master → persistence ok on each", async () => {
      await Promise.all(masters().map(([, admin]) => admin.config("SET", "appendonly", "yes")));
      try {
        const run = await doctor("--redis-cluster-nodes", cluster.seeds);
        const persistence = checks(run.stdout).filter(([, name]) => name === "redis persistence");
        expect(persistence.sort()).toEqual(
          masters()
            .map(([seed]) => ["ok", "redis persistence", `${seed}: AOF enabled`])
            .sort(),
        );
      } finally {
        await Promise.all(masters().map(([, admin]) => admin.config("SET", "appendonly", "no")));
      }
    });

    it("a master that stops serving a slot → cluster_state fail on that node, doctor fails with advice", async () => {
      const owner = await cluster.masterOfSlot(0);
      const seed = `127.0.0.1:${String(owner.port)}`;
      const admin = admins.get(seed);
      if (admin === undefined) throw new Error(`no master ${seed}`);
      await admin.call("CLUSTER", "DELSLOTS", "0");
      try {
        const run = await doctor("--redis-cluster-nodes", cluster.seeds);
        expect(checks(run.stdout)[0]).toEqual([
          "fail",
          "redis cluster",
          `Redis Cluster, 3 masters (+0 replicas), cluster_state fail on ${seed}`,
        ]);
        expect(run.stdout).toContain("→ a cluster that is not ok refuses commands");
        expect(run.error).toMatchObject({ code: "CLI_DOCTOR_FAILED" });
      } finally {
        await admin.call("CLUSTER", "ADDSLOTS", "0");
      }
      await expect
        .poll(async () => (await admin.call("CLUSTER", "INFO")) as string)
        .toContain("cluster_state:ok");
    });

    it("REDIS_URL at one node of the cluster → fails, saying to set REDIS_CLUSTER_NODES", async () => {
      const [seed] = cluster.seeds.split(",");
      const run = await doctor("--redis-url", `redis://${seed ?? ""}`);
      expect(checks(run.stdout)[0]).toEqual([
        "fail",
        "redis",
        `redis://${seed ?? ""} is a node of a Redis Cluster: commands on the keys of other nodes' slots fail (MOVED)`,
      ]);
      expect(run.stdout).toContain("→ set REDIS_CLUSTER_NODES (--redis-cluster-nodes)");
    });
  });

  it("send of one fixture per family through an ingest and workers on the cluster → each webhook_events row completed", async () => {
    const ingest = await startIngest("cli-cluster-send", target);
    const workers = await startWorkers({
      db: database.db,
      prefix: ingest.prefix,
      smtpUrl: smtp.url,
      redis: target,
    });
    try {
      const fixtures = [
        "evt_01HZ0001CONSUMERAU",
        "evt_01HZ0003EXPERIENCE",
        "evt_01HZ0004QUEUECONSU",
        "evt_01HZ0011DRAWENTRYC",
        "evt_01HZ0015AUCTIONBID",
      ];
      for (const fixture of fixtures) {
        const run = await runCli(["send", fixture, "--url", ingest.url, "--secret", SECRET]);
        expect(run.error).toBeUndefined();
        expect(run.stdout).toMatch(new RegExp(`^200 ${fixture} `));
      }
      await expect
        .poll(
          async () =>
            (
              await database.db
                .selectFrom("webhook_events")
                .select(["event_id", "status"])
                .where("event_id", "in", fixtures)
                .orderBy("event_id")
                .execute()
            ).map(({ event_id, status }) => `${event_id} ${status}`),
          { timeout: 15_000 },
        )
        .toEqual(fixtures.map((fixture) => `${fixture} completed`));
    } finally {
      await workers.close();
      await ingest.close();
    }
  });

  describe("dead-letters replay", () => {
    const board: Switchboard = { failing: new Set(), runs: new Map() };
    let h: WorkerHarness;
    beforeAll(async () => {
      // A retry schedule of milliseconds: a failing event is dead-lettered within ~50 ms.
      h = await createWorkerHarness(
        "experience",
        switchedHandlers(board),
        { retryTimeScale: 1e-6 },
        { redis: target },
      );
    }, 30_000);
    afterAll(async () => {
      await h.close();
    });

    const replay = (...args: string[]) =>
      runCli([
        "dead-letters",
        "replay",
        ...args,
        "--database-url",
        h.databaseUrl,
        "--redis-cluster-nodes",
        cluster.seeds,
        "--prefix",
        h.prefix,
      ]);
    const letterOf = (eventId: string) =>
      h.db
        .selectFrom("webhook_dead_letters")
        .selectAll()
        .where("event_id", "=", eventId)
        .executeTakeFirstOrThrow();
    const jobState = async (jobId: string) =>
      (await h.producer.queues.get("fanfare-experience")?.getJob(jobId))?.getState();

    async function deadEvent() {
      const event = sampleEvent("experience.started", {
        experienceId: `exp_${crypto.randomUUID()}`,
      });
      board.failing.add(event.id);
      const job = await h.deliver(event);
      expect(await job.getState()).toBe("failed");
      await expect.poll(async () => (await letterOf(event.id)).resolved_at).toBeNull();
      board.failing.delete(event.id); // the cause is fixed
      return { event, jobId: job.id ?? "" };
    }

    it("a dead-lettered event replayed by id → its failed job retried on the cluster, applied, letter resolved", async () => {
      const { event, jobId } = await deadEvent();
      const run = await replay(event.id);
      expect(run.error).toBeUndefined();
      expect(run.stdout).toBe(
        `${event.id} (fanfare-experience): retried (the failed job is waiting again)\n`,
      );
      await expect.poll(() => jobState(jobId)).toBe("completed");
      await expect.poll(async () => (await letterOf(event.id)).resolved_at).toBeInstanceOf(Date);
      expect(board.runs.get(event.id)).toBe(1);
    });

    it("--all with the job gone from BullMQ → re-added from the stored payload, applied", async () => {
      const { event, jobId } = await deadEvent();
      await h.producer.queues.get("fanfare-experience")?.remove(jobId);
      const run = await replay("--all");
      expect(run.error).toBeUndefined();
      expect(run.stdout).toContain(
        `${event.id} (fanfare-experience): re-added (BullMQ no longer had the job; a new one with the stored payload)\n`,
      );
      await expect.poll(() => jobState(jobId)).toBe("completed");
      await expect.poll(async () => (await letterOf(event.id)).resolved_at).toBeInstanceOf(Date);
      expect(board.runs.get(event.id)).toBe(1);
    });
  });

  // Last: the cluster stays broken.
  it("one master killed, no replica → doctor fails: cluster_state fail on the others, the dead master's checks name it", async () => {
    const [[deadSeed], ...survivors] = masters() as [[string, Redis], ...[string, Redis][]];
    admins.get(deadSeed)?.disconnect();
    admins.delete(deadSeed);
    await cluster.kill(Number(deadSeed.split(":")[1]));
    // A master unreachable for cluster-node-timeout (1 s) is failed by the others' majority.
    await expect
      .poll(async () => (await survivors[0]?.[1].call("CLUSTER", "INFO")) as string, {
        timeout: 10_000,
      })
      .toContain("cluster_state:fail");

    const run = await doctor("--redis-cluster-nodes", cluster.seeds);
    const results = checks(run.stdout);
    expect(results[0]?.slice(0, 2)).toEqual(["fail", "redis cluster"]);
    expect(results[0]?.[2]).toMatch(/^Redis Cluster, 3 masters \(\+0 replicas\), cluster_state /);
    for (const [seed] of survivors) expect(results[0]?.[2]).toContain(`fail on ${seed}`);
    expect(results[0]?.[2]).toContain(`on ${deadSeed}`);
    for (const name of ["redis", "redis eviction", "redis persistence"]) {
      expect(results).toContainEqual(["fail", name, expect.stringContaining(deadSeed)]);
    }
    expect(run.error).toMatchObject({ code: "CLI_DOCTOR_FAILED" });
  });
});
