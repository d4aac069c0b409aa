import { familyQueueNames } from "@fanfare-relay/events/families";
import { EventProducer } from "@fanfare-relay/queues/producer";
import { createProducerConnection } from "@fanfare-relay/queues/redis-connection";
import { freePort } from "@fanfare-relay/testing/free-port";
import { createTestDatabase, type TestDatabase } from "@fanfare-relay/testing/postgres";
import { deleteKeys, testRedisUrl, uniquePrefix } from "@fanfare-relay/testing/redis";
import { startSmtpCatcher, type SmtpCatcher } from "@fanfare-relay/testing/smtp-catcher";
import { spawnApp, waitUntil } from "@fanfare-relay/testing/spawn-app";
import { inMinutes, sampleEvent } from "@fanfare-relay/worker/testing/harness";
import type { Redis } from "ioredis";
import { sql } from "kysely";
import { startPgliteHost } from "@fanfare-relay/db/pglite-host";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const appDir = fileURLToPath(new URL("..", import.meta.url));

let database: TestDatabase;
let smtp: SmtpCatcher;
let redis: Redis;
let producer: EventProducer;
const prefix = uniquePrefix("worker-proc");

beforeAll(async () => {
  database = await createTestDatabase("proc");
  smtp = await startSmtpCatcher();
  redis = createProducerConnection(testRedisUrl);
  producer = new EventProducer({ connection: redis, prefix });
  await producer.waitUntilReady();
});
const spawned: ReturnType<typeof spawnApp>[] = [];
afterAll(async () => {
  // A failed assertion must not leave a worker running.
  for (const proc of spawned) if (proc.child.exitCode === null) proc.child.kill("SIGKILL");
  await producer.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
  await smtp.stop();
  await database.drop();
});

function startWorker(port: number, settings: Record<string, string> = {}) {
  const proc = spawnApp(appDir, {
    DATABASE_URL: database.url,
    REDIS_URL: testRedisUrl,
    REDIS_PREFIX: prefix,
    SMTP_URL: smtp.url,
    MAIL_FROM: "Shop <no-reply@shop.test>",
    PORT: String(port),
    HOST: "127.0.0.1",
    // A killed worker's job is taken over within seconds instead of the default 30 s.
    JOB_LOCK_DURATION_MS: "2000",
    STALLED_INTERVAL_MS: "1000",
    LOG_LEVEL: "info",
    ...settings,
  });
  spawned.push(proc);
  return proc;
}

/** Holds an exclusive lock on `admissions` so a job blocks mid-transaction. */
async function lockAdmissions() {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await client.query("BEGIN");
  await client.query("LOCK TABLE admissions IN ACCESS EXCLUSIVE MODE");
  return {
    release: async () => {
      await client.query("ROLLBACK");
      await client.end();
    },
  };
}

async function jobBlockedOnLock(): Promise<boolean> {
  const result = await sql<{ waiting: number }>`
    SELECT count(*)::int AS waiting FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(database.db);
  return (result.rows[0]?.waiting ?? 0) > 0;
}

async function jobState(jobId: string) {
  const queue = producer.queues.get(familyQueueNames.queue);
  return (await queue?.getJob(jobId))?.getState();
}

describe("fault: a worker process with bad configuration, killed mid-job, or stopped", () => {
  it("refuses to start on bad configuration, naming the variable, without a stack trace", async () => {
    const proc = spawnApp(appDir, { SMTP_URL: "mail.example.com", WORKER_CONCURRENCY: "0" });
    const [code] = (await once(proc.child, "exit")) as [number];
    expect(code).toBe(1);
    expect(proc.output()).toContain("SMTP_URL");
    expect(proc.output()).toContain("WORKER_CONCURRENCY");
    expect(proc.output()).not.toMatch(/at .*\.ts:\d+/);
    // Starting tsx takes seconds on a loaded machine.
  }, 20_000);

  it("killed with SIGKILL mid-job: another worker completes the job later, with one effect and one email; SIGTERM lets a job in flight finish", async () => {
    await database.db
      .insertInto("consumers")
      .values({ id: "con_k", email: "k@example.com" })
      .execute();
    const port = await freePort();
    const first = startWorker(port);
    await first.waitFor("worker-queue ready");
    const health = await fetch(`http://127.0.0.1:${String(port)}/healthz`);
    expect(health.status).toBe(200);

    const lock = await lockAdmissions();
    const event = sampleEvent("queue.consumer_admitted", {
      consumerId: "con_k",
      experienceId: "exp_k",
      admissionToken: "adm_tok_k",
      expiresAt: inMinutes(30),
    });
    const { jobId } = await producer.enqueue(event);
    await waitUntil(jobBlockedOnLock);
    first.child.kill("SIGKILL");
    await once(first.child, "exit");
    await lock.release();

    const second = startWorker(await freePort());
    await second.waitFor("worker-queue ready");
    await waitUntil(async () => (await jobState(jobId)) === "completed", 15_000);

    const admissions = await database.db.selectFrom("admissions").selectAll().execute();
    expect(admissions).toHaveLength(1);
    expect(admissions[0]).toMatchObject({ status: "active", token: "adm_tok_k" });
    const claim = await database.db
      .selectFrom("webhook_events")
      .select(["status", "attempts"])
      .where("event_id", "=", event.id)
      .executeTakeFirstOrThrow();
    // The killed attempt's transaction was rolled back with its connection.
    expect(claim).toEqual({ status: "completed", attempts: 1 });
    await smtp.waitForMails(1);
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]?.text).toContain("adm_tok_k");

    // Graceful stop: the job blocked in flight finishes before the process exits 0.
    const secondLock = await lockAdmissions();
    const next = sampleEvent("queue.consumer_admitted", { consumerId: "con_term" });
    const { jobId: nextJob } = await producer.enqueue(next);
    await waitUntil(jobBlockedOnLock);
    second.child.kill("SIGTERM");
    await second.waitFor("shutting down");
    expect(second.child.exitCode).toBeNull();
    await secondLock.release();
    const [code] = (await once(second.child, "exit")) as [number];
    expect(code).toBe(0);
    expect(await jobState(nextJob)).toBe("completed");
    expect(second.output()).not.toContain("k@example.com");
  }, 40_000);

  it("killed with SIGKILL mid-batch (10 admissions in one transaction, blocked on a lock) → another worker applies each once: 10 admissions, 10 claims of 1 attempt, 10 mails", async () => {
    const consumers = Array.from({ length: 10 }, (_, index) => `con_batch_kill_${String(index)}`);
    await database.db
      .insertInto("consumers")
      .values(consumers.map((id) => ({ id, email: `${id}@example.com` })))
      .execute();
    // The batch waits until all 10 jobs are in it, then blocks on the table lock.
    const first = startWorker(await freePort(), {
      WORKER_BATCH_SIZE: "10",
      WORKER_BATCH_WAIT_MS: "10000",
    });
    await first.waitFor("worker-queue ready");
    const lock = await lockAdmissions();
    const events = consumers.map((consumerId) =>
      sampleEvent("queue.consumer_admitted", {
        consumerId,
        experienceId: "exp_batch_kill",
        expiresAt: inMinutes(30),
      }),
    );
    const jobIds = await Promise.all(
      events.map(async (event) => (await producer.enqueue(event)).jobId),
    );
    await waitUntil(jobBlockedOnLock);
    first.child.kill("SIGKILL");
    await once(first.child, "exit");
    await lock.release();

    const mailsBefore = smtp.mails.length;
    const second = startWorker(await freePort());
    await second.waitFor("worker-queue ready");
    await waitUntil(async () => {
      const states = await Promise.all(jobIds.map(jobState));
      return states.every((state) => state === "completed");
    }, 20_000);
    const admissions = await database.db
      .selectFrom("admissions")
      .select("consumer_id")
      .where("experience_id", "=", "exp_batch_kill")
      .execute();
    expect(admissions).toHaveLength(10);
    const claims = await database.db
      .selectFrom("webhook_events")
      .select(["status", "attempts"])
      .where(
        "event_id",
        "in",
        events.map((event) => event.id),
      )
      .execute();
    expect(claims).toEqual(events.map(() => ({ status: "completed", attempts: 1 })));
    await smtp.waitForMails(mailsBefore + 10);
    expect(
      smtp.mails
        .slice(mailsBefore)
        .flatMap((mail) => mail.to)
        .sort(),
    ).toEqual(consumers.map((id) => `${id}@example.com`).sort());
    second.child.kill("SIGTERM");
    await once(second.child, "exit");
  }, 40_000);

  it("without DATABASE_URL keeps its rows in embedded PostgreSQL (PGlite) under PGLITE_DATA_DIR", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "fanfare-pglite-"));
    try {
      const port = await freePort();
      const proc = spawnApp(appDir, {
        PGLITE_DATA_DIR: dataDir,
        REDIS_URL: testRedisUrl,
        REDIS_PREFIX: prefix,
        SMTP_URL: smtp.url,
        PORT: String(port),
        HOST: "127.0.0.1",
      });
      spawned.push(proc);
      await proc.waitFor("worker-queue ready");
      expect(proc.output()).toContain("pglite");
      const event = sampleEvent("queue.consumer_entered", { consumerId: "con_lite", position: 3 });
      const { jobId } = await producer.enqueue(event);
      await waitUntil(async () => (await jobState(jobId)) === "completed", 15_000);
      const metrics = await (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
      expect(metrics).toMatch(
        /fanfare_worker_jobs_total\{queue="fanfare-queue",type="queue.consumer_entered",outcome="applied"\} 1/,
      );
      proc.child.kill("SIGTERM");
      expect((await once(proc.child, "exit"))[0]).toBe(0);

      // The data folder holds the row after the process is gone.
      const host = await startPgliteHost({ dataDir });
      const client = new pg.Client({ connectionString: host.url });
      await client.connect();
      const { rows } = await client.query(
        "SELECT position FROM queue_participants WHERE consumer_id = 'con_lite'",
      );
      await client.end();
      await host.stop();
      expect(rows).toEqual([{ position: 3 }]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 40_000);
});

describe("guarantee: a worker's drain survives repeated SIGTERM", () => {
  it("a job in progress, SIGTERM sent twice 30 ms apart to the worker's process group → the job finishes (its row is there) and the process exits 0", async () => {
    await database.db
      .insertInto("consumers")
      .values({ id: "con_twice", email: "twice@example.com" })
      .execute();
    const port = await freePort();
    // As `pnpm start` runs it (one node process on its sources), leading its own process group.
    const proc = spawnApp(
      appDir,
      {
        DATABASE_URL: database.url,
        REDIS_URL: testRedisUrl,
        REDIS_PREFIX: prefix,
        SMTP_URL: smtp.url,
        MAIL_FROM: "Shop <no-reply@shop.test>",
        PORT: String(port),
        HOST: "127.0.0.1",
        LOG_LEVEL: "info",
      },
      { detached: true },
    );
    spawned.push(proc);
    await proc.waitFor("worker-queue ready");
    const pid = proc.child.pid;
    if (pid === undefined) throw new Error("no pid");

    const lock = await lockAdmissions();
    const event = sampleEvent("queue.consumer_admitted", {
      consumerId: "con_twice",
      experienceId: "exp_twice",
      admissionToken: "adm_tok_twice",
      expiresAt: inMinutes(30),
    });
    const { jobId } = await producer.enqueue(event);
    await waitUntil(jobBlockedOnLock);

    // A supervisor signals the whole group, and a relay (pnpm, tsx, a shell) forwards it again.
    process.kill(-pid, "SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 30));
    process.kill(-pid, "SIGTERM");
    await proc.waitFor("shutting down");
    await proc.waitFor("signal ignored");
    expect(proc.child.exitCode).toBeNull();
    await lock.release();

    const [code] = (await once(proc.child, "exit")) as [number];
    expect(code).toBe(0);
    expect(await jobState(jobId)).toBe("completed");
    const admission = await database.db
      .selectFrom("admissions")
      .select(["status", "token"])
      .where("consumer_id", "=", "con_twice")
      .executeTakeFirst();
    expect(admission).toEqual({ status: "active", token: "adm_tok_twice" });
  }, 40_000);
});
