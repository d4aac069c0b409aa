import { familyQueueNames } from "@fanfare-relay/events/families";
import { EventProducer } from "@fanfare-relay/queues/producer";
import { createProducerConnection } from "@fanfare-relay/queues/redis-connection";
import { freePort } from "@fanfare-relay/testing/free-port";
import {
  createTestDatabase,
  runAsAdmin,
  testDatabaseAdminUrl,
  type TestDatabase,
} from "@fanfare-relay/testing/postgres";
import { deleteKeys, testRedisUrl, uniquePrefix } from "@fanfare-relay/testing/redis";
import { startRedisServer } from "@fanfare-relay/testing/redis-server";
import { startSmtpCatcher, type SmtpCatcher } from "@fanfare-relay/testing/smtp-catcher";
import { spawnApp, waitUntil, type RunningApp } from "@fanfare-relay/testing/spawn-app";
import { sampleEvent } from "@fanfare-relay/worker/testing/harness";
import { Redis } from "ioredis";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createServer, connect as connectTcp, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const appDir = fileURLToPath(new URL("..", import.meta.url));

let database: TestDatabase;
let smtp: SmtpCatcher;
let redis: Redis;
const prefixes: string[] = [];
const spawned: RunningApp[] = [];

beforeAll(async () => {
  database = await createTestDatabase("readiness");
  smtp = await startSmtpCatcher();
  redis = createProducerConnection(testRedisUrl);
});
afterAll(async () => {
  // A failed assertion must not leave a worker running.
  for (const proc of spawned) if (proc.child.exitCode === null) proc.child.kill("SIGKILL");
  for (const prefix of prefixes) await deleteKeys(redis, prefix);
  await redis.quit();
  await smtp.stop();
  await database.drop();
});

function databaseUrl(change: (url: URL) => void): string {
  const url = new URL(testDatabaseAdminUrl);
  change(url);
  return url.toString();
}

async function startWorker(env: Record<string, string>) {
  const port = await freePort();
  const proc = spawnApp(appDir, {
    REDIS_URL: testRedisUrl,
    SMTP_URL: smtp.url,
    PORT: String(port),
    HOST: "127.0.0.1",
    READINESS_CHECK_INTERVAL_MS: "200",
    LOG_LEVEL: "info",
    ...env,
  });
  spawned.push(proc);
  return { proc, port };
}

async function stop(proc: RunningApp): Promise<number> {
  if (proc.child.exitCode !== null) return proc.child.exitCode;
  const exited = once(proc.child, "exit");
  proc.child.kill("SIGTERM");
  return ((await exited) as [number])[0];
}

async function probe(port: number, path: "/readyz" | "/healthz") {
  const response = await fetch(`http://127.0.0.1:${String(port)}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function linesMatching(proc: RunningApp, text: string): string[] {
  return proc
    .output()
    .split("\n")
    .filter((line) => line.includes(text));
}

async function newProducer(label: string) {
  const prefix = uniquePrefix(label);
  prefixes.push(prefix);
  const producer = new EventProducer({ connection: redis, prefix });
  await producer.waitUntilReady();
  return { prefix, producer };
}

async function jobOf(producer: EventProducer, jobId: string) {
  const job = await producer.queues.get(familyQueueNames.queue)?.getJob(jobId);
  if (job === undefined) throw new Error(`job ${jobId} not found`);
  return { state: await job.getState(), attemptsMade: job.attemptsMade };
}

/** Asserts, for `ms`, that no job was taken: each stays waiting and no attempt is made. */
async function expectUntouched(producer: EventProducer, jobIds: string[], ms: number) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    for (const jobId of jobIds) {
      expect(await jobOf(producer, jobId)).toEqual({ state: "waiting", attemptsMade: 0 });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A TCP proxy to PostgreSQL that a test can take down and bring back. Down, it refuses new
 * connections and resets the open ones (TCP RST, as a crashed server or a firewall does): the
 * worker's pool sees several connection errors at once (`ECONNRESET` on reads and writes), and
 * checks that fail with different codes (`ECONNRESET`, then `ECONNREFUSED`).
 */
async function startDatabaseProxy(target: URL) {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const up = async () => {
    const listening = createServer((client) => {
      const upstream = connectTcp(Number(target.port || 5432), target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        socket.on("error", () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    listening.listen(port, "127.0.0.1");
    await once(listening, "listening");
    server = listening;
  };
  const down = async () => {
    const closing = server;
    server = undefined;
    if (closing === undefined) return;
    const closed = once(closing, "close");
    closing.close();
    for (const socket of sockets) socket.resetAndDestroy();
    await closed;
  };
  await up();
  return { port, up, down };
}

describe("fault: the worker's database is unreachable, missing, or refuses its role", () => {
  it("3 workers started with DATABASE_URL on a closed port (with a password), a missing database and an unknown role → one log line each naming ECONNREFUSED / 3D000 / 28000, /readyz 503 WORKER_DATABASE_UNAVAILABLE, /healthz 200, no 'ready' line, a job left waiting, the password never logged", async () => {
    const { prefix, producer } = await newProducer("db-bad");
    const closedPort = await freePort();
    const cases = [
      {
        url: databaseUrl((url) => {
          url.username = "relay";
          url.password = "s3cret-pw-never-logged";
          url.port = String(closedPort);
        }),
        code: "ECONNREFUSED",
        reason: "connection refused",
      },
      {
        url: databaseUrl((url) => (url.pathname = `/fanfare_missing_${randomUUID().slice(0, 8)}`)),
        code: "3D000",
        reason: "database does not exist",
      },
      {
        url: databaseUrl((url) => (url.username = `no_such_role_${randomUUID().slice(0, 8)}`)),
        code: "28000",
        reason: "role does not exist",
      },
    ];
    const workers = await Promise.all(
      cases.map(async (fault) => ({
        fault,
        ...(await startWorker({ DATABASE_URL: fault.url, REDIS_PREFIX: prefix })),
      })),
    );
    const { jobId } = await producer.enqueue(sampleEvent("queue.consumer_entered"));
    for (const { proc, port, fault } of workers) {
      await proc.waitFor("started but not ready");
      const ready = await probe(port, "/readyz");
      expect(ready.status).toBe(503);
      expect(ready.body.code).toBe("WORKER_DATABASE_UNAVAILABLE");
      expect(JSON.stringify(ready.body.reasons)).toContain(fault.reason);
      expect((await probe(port, "/healthz")).status).toBe(200);
    }
    // Several checks later (every 200 ms): the job is still untouched and each said it once.
    await expectUntouched(producer, [jobId], 1_500);
    for (const { proc, fault } of workers) {
      const lines = linesMatching(proc, "database unreachable");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`"code":"${fault.code}"`);
      expect(lines[0]).toContain(fault.reason);
      expect(proc.output()).not.toContain("worker-queue ready");
      expect(proc.output()).not.toContain("s3cret-pw-never-logged");
      expect(await stop(proc)).toBe(0);
    }
    await producer.close();
  }, 60_000);

  it("a worker whose database does not exist yet, 1 job enqueued, then the database is created → the job waits with 0 attempts, then one 'database reachable again' line, 'ready', /readyz 200, the job completes on its first attempt", async () => {
    const { prefix, producer } = await newProducer("db-late");
    const name = `fanfare_test_late_${randomUUID().replaceAll("-", "").slice(0, 10)}`;
    const { proc, port } = await startWorker({
      DATABASE_URL: databaseUrl((url) => (url.pathname = `/${name}`)),
      REDIS_PREFIX: prefix,
      MIGRATE_ON_START: "true",
    });
    try {
      await proc.waitFor("started but not ready");
      const event = sampleEvent("queue.consumer_entered", { consumerId: "con_late", position: 7 });
      const { jobId } = await producer.enqueue(event);
      await expectUntouched(producer, [jobId], 1_000);

      await runAsAdmin(`CREATE DATABASE ${name}`);
      await proc.waitFor("database reachable again");
      await proc.waitFor("worker-queue ready");
      await waitUntil(async () => (await jobOf(producer, jobId)).state === "completed", 15_000);
      expect((await jobOf(producer, jobId)).attemptsMade).toBe(1);
      expect(await probe(port, "/readyz")).toEqual({ status: 200, body: { status: "ready" } });
      expect(linesMatching(proc, "database reachable again")).toHaveLength(1);

      const client = new pg.Client({
        connectionString: databaseUrl((u) => (u.pathname = `/${name}`)),
      });
      await client.connect();
      const { rows } = await client.query(
        "SELECT position FROM queue_participants WHERE consumer_id = 'con_late'",
      );
      await client.end();
      expect(rows).toEqual([{ position: 7 }]);
      expect(await stop(proc)).toBe(0);
    } finally {
      await producer.close();
      await runAsAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  }, 60_000);

  it("the database lost while the worker runs (its open connections reset after 10 jobs, new ones refused), 3 jobs enqueued during the outage → exactly one 'database unreachable' error line, /readyz 503, the jobs wait with 0 attempts; database back → one 'reachable again' line, /readyz 200, all 3 completed on their first attempt", async () => {
    const { prefix, producer } = await newProducer("db-outage");
    const target = new URL(database.url);
    const proxy = await startDatabaseProxy(target);
    const { proc, port } = await startWorker({
      DATABASE_URL: databaseUrl((url) => {
        url.pathname = target.pathname;
        url.port = String(proxy.port);
      }),
      REDIS_PREFIX: prefix,
    });
    try {
      await proc.waitFor("worker-queue ready");
      // 10 jobs at once leave several idle connections in the pool for the outage to reset.
      const before: string[] = [];
      for (let i = 0; i < 10; i++) {
        const event = sampleEvent("queue.consumer_entered", { consumerId: `con_b${String(i)}` });
        before.push((await producer.enqueue(event)).jobId);
      }
      for (const jobId of before) {
        await waitUntil(async () => (await jobOf(producer, jobId)).state === "completed");
      }

      await proxy.down();
      await proc.waitFor("database unreachable");
      const ready = await probe(port, "/readyz");
      expect(ready.status).toBe(503);
      expect(ready.body.code).toBe("WORKER_DATABASE_UNAVAILABLE");
      expect((await probe(port, "/healthz")).status).toBe(200);

      const jobIds: string[] = [];
      for (const consumerId of ["con_o1", "con_o2", "con_o3"]) {
        const event = sampleEvent("queue.consumer_entered", { consumerId, position: 1 });
        jobIds.push((await producer.enqueue(event)).jobId);
      }
      await expectUntouched(producer, jobIds, 1_500);

      await proxy.up();
      await proc.waitFor("database reachable again");
      for (const jobId of jobIds) {
        await waitUntil(async () => (await jobOf(producer, jobId)).state === "completed", 15_000);
        expect((await jobOf(producer, jobId)).attemptsMade).toBe(1);
      }
      expect((await probe(port, "/readyz")).status).toBe(200);
      expect(linesMatching(proc, "database unreachable"), proc.output()).toHaveLength(1);
      expect(linesMatching(proc, "database reachable again")).toHaveLength(1);
      expect(await stop(proc)).toBe(0);
    } finally {
      await producer.close();
      await proxy.down();
    }
  }, 60_000);
});

describe("fault: the worker's Redis may evict keys (maxmemory-policy allkeys-lru)", () => {
  it("a worker on a private Redis set to allkeys-lru → one error line naming maxmemory-policy and the fix, one 'started but not ready' line giving the reason (no 'ready' line), /readyz 503 WORKER_REDIS_EVICTION_POLICY; CONFIG SET noeviction → /readyz 200; with REDIS_ALLOW_EVICTION=true → a warning, 'ready' and /readyz 200", async () => {
    const server = await startRedisServer();
    const admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
    try {
      await admin.config("SET", "maxmemory-policy", "allkeys-lru");
      const strict = await startWorker({
        DATABASE_URL: database.url,
        REDIS_URL: server.url,
        REDIS_PREFIX: "evict",
      });
      const allowed = await startWorker({
        DATABASE_URL: database.url,
        REDIS_URL: server.url,
        REDIS_PREFIX: "evict",
        REDIS_ALLOW_EVICTION: "true",
      });
      await strict.proc.waitFor("maxmemory-policy is allkeys-lru");
      // It keeps taking jobs (pausing would only let the queue grow) but does not call itself
      // ready: its one start line says why /readyz fails.
      await strict.proc.waitFor("worker-queue started but not ready");
      const startLines = linesMatching(strict.proc, "worker-queue started but not ready");
      expect(startLines).toHaveLength(1);
      expect(startLines[0]).toContain('"level":40');
      expect(startLines[0]).toContain("maxmemory-policy is allkeys-lru");
      expect(startLines[0]).toContain("WORKER_REDIS_EVICTION_POLICY");
      expect(strict.proc.output()).not.toContain("worker-queue ready");
      const ready = await probe(strict.port, "/readyz");
      expect(ready.status).toBe(503);
      expect(ready.body.code).toBe("WORKER_REDIS_EVICTION_POLICY");
      expect(JSON.stringify(ready.body.reasons)).toContain("maxmemory-policy");
      expect((await probe(strict.port, "/healthz")).status).toBe(200);

      await allowed.proc.waitFor("allowed by REDIS_ALLOW_EVICTION=true");
      await allowed.proc.waitFor("worker-queue ready");
      expect(allowed.proc.output()).not.toContain("started but not ready");
      expect((await probe(allowed.port, "/readyz")).status).toBe(200);

      await admin.config("SET", "maxmemory-policy", "noeviction");
      await strict.proc.waitFor("maxmemory-policy is noeviction again");
      expect((await probe(strict.port, "/readyz")).status).toBe(200);

      const errors = linesMatching(strict.proc, '"level":50').filter((line) =>
        line.includes("maxmemory-policy"),
      );
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain("noeviction");
      expect(errors[0]).toContain("REDIS_ALLOW_EVICTION=true");
      expect(await stop(strict.proc)).toBe(0);
      expect(await stop(allowed.proc)).toBe(0);
    } finally {
      await admin.quit();
      await server.stop();
    }
  }, 60_000);
});
