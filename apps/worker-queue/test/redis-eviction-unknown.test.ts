import { familyQueueNames } from "@fanfare-relay/events/families";
import { EventProducer } from "@fanfare-relay/queues/producer";
import { createProducerConnection } from "@fanfare-relay/queues/redis-connection";
import { freePort } from "@fanfare-relay/testing/free-port";
import { createTestDatabase, type TestDatabase } from "@fanfare-relay/testing/postgres";
import { uniquePrefix } from "@fanfare-relay/testing/redis";
import { startRedisServer, type RedisServer } from "@fanfare-relay/testing/redis-server";
import { startSmtpCatcher, type SmtpCatcher } from "@fanfare-relay/testing/smtp-catcher";
import { spawnApp, waitUntil, type RunningApp } from "@fanfare-relay/testing/spawn-app";
import { sampleEvent } from "@fanfare-relay/worker/testing/harness";
import { Redis } from "ioredis";
import { once } from "node:events";
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const appDir = fileURLToPath(new URL("..", import.meta.url));

let database: TestDatabase;
let smtp: SmtpCatcher;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  database = await createTestDatabase("eviction_unknown");
  smtp = await startSmtpCatcher();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await smtp.stop();
  await database.drop();
});

async function redisWith(args: string[]): Promise<RedisServer> {
  const server = await startRedisServer({ args });
  cleanups.push(() => server.stop());
  return server;
}

async function startWorker(redisUrl: string, env: Record<string, string> = {}) {
  const port = await freePort();
  const prefix = uniquePrefix("evict-unknown");
  const proc = spawnApp(appDir, {
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    SMTP_URL: smtp.url,
    PORT: String(port),
    HOST: "127.0.0.1",
    READINESS_CHECK_INTERVAL_MS: "200",
    LOG_LEVEL: "info",
    ...env,
  });
  const exited = once(proc.child, "exit");
  cleanups.push(async () => {
    if (proc.child.exitCode === null && proc.child.signalCode === null) {
      proc.child.kill("SIGKILL");
      await exited;
    }
  });
  return { proc, port, prefix };
}

async function stop(proc: RunningApp): Promise<number | null> {
  if (proc.child.exitCode !== null) return proc.child.exitCode;
  const exited = once(proc.child, "exit");
  proc.child.kill("SIGTERM");
  return ((await exited) as [number | null])[0];
}

async function probe(port: number) {
  const response = await fetch(`http://127.0.0.1:${String(port)}/readyz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function logLines(proc: RunningApp): Record<string, unknown>[] {
  return proc
    .output()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * A proxy to Redis that stands for a managed Redis hiding its policy: every `CONFIG …` and
 * `INFO memory` reaches Redis renamed to an unknown command (so it answers an error, in order),
 * while plain `INFO`, which BullMQ needs for the server's version, and everything else pass.
 * An ACL cannot do this: refusing `INFO memory` means refusing `INFO`, and BullMQ then cannot
 * start. `reveal()` stops hiding (the provider granted CONFIG or INFO).
 */
async function startPolicyHidingProxy(target: RedisServer) {
  let hiding = true;
  const sockets = new Set<Socket>();
  const hides = (args: Buffer[]) => {
    const name = args[0]?.toString().toLowerCase();
    return (
      hiding &&
      (name === "config" || (name === "info" && args[1]?.toString().toLowerCase() === "memory"))
    );
  };
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.pipe(client);
    let pending = Buffer.alloc(0);
    client.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const command = readCommand(pending);
        if (command === undefined) return;
        const { args, length } = command;
        upstream.write(
          hides(args)
            ? encodeCommand([Buffer.from("fanfare-hidden"), ...args.slice(1)])
            : pending.subarray(0, length),
        );
        pending = pending.subarray(length);
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    url: `redis://127.0.0.1:${String(port)}`,
    reveal: () => {
      hiding = false;
    },
  };
}

/** One RESP command (an array of bulk strings, as ioredis sends them), or undefined if incomplete. */
function readCommand(buffer: Buffer): { args: Buffer[]; length: number } | undefined {
  const line = (from: number) => {
    const end = buffer.indexOf("\r\n", from);
    return end < 0 ? undefined : { text: buffer.toString("latin1", from + 1, end), next: end + 2 };
  };
  if (buffer.length === 0) return undefined;
  if (buffer[0] !== 0x2a) throw new Error("the proxy expects RESP arrays");
  const header = line(0);
  if (header === undefined) return undefined;
  const args: Buffer[] = [];
  let offset = header.next;
  for (let i = 0; i < Number(header.text); i++) {
    const size = line(offset);
    if (size === undefined) return undefined;
    const end = size.next + Number(size.text);
    if (buffer.length < end + 2) return undefined;
    args.push(buffer.subarray(size.next, end));
    offset = end + 2;
  }
  return { args, length: offset };
}

function encodeCommand(args: Buffer[]): Buffer {
  return Buffer.concat([
    Buffer.from(`*${String(args.length)}\r\n`),
    ...args.flatMap((arg) => [Buffer.from(`$${String(arg.length)}\r\n`), arg, Buffer.from("\r\n")]),
  ]);
}

describe("guarantee: a worker is not ready until Redis's eviction policy has been read (fail closed, as the ingest)", () => {
  it('a worker on a Redis started with --rename-command CONFIG "" (managed Redis) → the policy is read from INFO memory: noeviction → "worker-queue ready", /readyz 200; allkeys-lru → /readyz 503 WORKER_REDIS_EVICTION_POLICY', async () => {
    const safe = await redisWith(["--rename-command", "CONFIG", ""]);
    const evicting = await redisWith([
      "--rename-command",
      "CONFIG",
      "",
      "--maxmemory-policy",
      "allkeys-lru",
    ]);
    const ready = await startWorker(safe.url);
    const refusing = await startWorker(evicting.url);

    await ready.proc.waitFor('"msg":"worker-queue ');
    expect(ready.proc.output()).toContain("worker-queue ready");
    expect(ready.proc.output()).not.toContain("started but not ready");
    expect(await probe(ready.port)).toEqual({ status: 200, body: { status: "ready" } });

    await refusing.proc.waitFor("worker-queue started but not ready");
    const notReady = await probe(refusing.port);
    expect(notReady.status).toBe(503);
    expect(notReady.body.code).toBe("WORKER_REDIS_EVICTION_POLICY");
    expect(JSON.stringify(notReady.body.reasons)).toContain("maxmemory-policy is allkeys-lru");

    expect(await stop(ready.proc)).toBe(0);
    expect(await stop(refusing.proc)).toBe(0);
  }, 60_000);

  it("a worker on a Redis that answers neither CONFIG GET nor INFO memory → a warn start line 'started but not ready: Redis maxmemory-policy not read yet …' naming REDIS_ALLOW_EVICTION, never 'ready', /readyz 503 WORKER_REDIS_POLICY_UNKNOWN, jobs still processed; the policy readable again → /readyz 200 without a restart; with REDIS_ALLOW_EVICTION=true → a warning, 'ready', /readyz 200", async () => {
    const server = await redisWith([]);
    const proxy = await startPolicyHidingProxy(server);
    const admin = new Redis(proxy.url, { maxRetriesPerRequest: 1 });
    cleanups.push(async () => {
      await admin.quit();
    });
    // The proxy really hides the policy, and lets BullMQ's plain INFO through.
    await expect(admin.config("GET", "maxmemory-policy")).rejects.toThrow(/unknown command/);
    await expect(admin.info("memory")).rejects.toThrow(/unknown command/);
    expect(await admin.info()).toMatch(/^redis_version:/m);

    const strict = await startWorker(proxy.url);
    const allowed = await startWorker(proxy.url, { REDIS_ALLOW_EVICTION: "true" });

    await strict.proc.waitFor('"msg":"worker-queue ');
    const startLines = logLines(strict.proc).filter((line) =>
      String(line.msg).startsWith("worker-queue "),
    );
    expect(startLines).toEqual([
      expect.objectContaining({
        level: 40,
        codes: ["WORKER_REDIS_POLICY_UNKNOWN"],
        msg: expect.stringMatching(
          /^worker-queue started but not ready: Redis maxmemory-policy not read yet \(neither CONFIG GET nor INFO memory answered\): .*REDIS_ALLOW_EVICTION=true/,
        ) as unknown,
      }),
    ]);
    const notReady = await probe(strict.port);
    expect(notReady.status).toBe(503);
    expect(notReady.body).toMatchObject({
      status: "not_ready",
      code: "WORKER_REDIS_POLICY_UNKNOWN",
      reasons: [
        {
          code: "WORKER_REDIS_POLICY_UNKNOWN",
          message: expect.stringContaining("maxmemory-policy not read yet") as unknown,
        },
      ],
    });

    // Not ready, but not idle: pausing would only let the queue grow (as for a policy that evicts).
    const connection = createProducerConnection(server.url);
    const producer = new EventProducer({ connection, prefix: strict.prefix });
    cleanups.push(async () => {
      await producer.close();
      connection.disconnect();
    });
    await producer.waitUntilReady();
    const { jobId } = await producer.enqueue(sampleEvent("queue.consumer_entered"));
    await waitUntil(async () => {
      const job = await producer.queues.get(familyQueueNames.queue)?.getJob(jobId);
      return (await job?.getState()) === "completed";
    }, 15_000);

    await allowed.proc.waitFor('"msg":"worker-queue ');
    expect(allowed.proc.output()).toContain("worker-queue ready");
    expect(allowed.proc.output()).toContain(
      "Redis maxmemory-policy not read (neither CONFIG GET nor INFO memory answered), accepted because REDIS_ALLOW_EVICTION=true",
    );
    expect(await probe(allowed.port)).toEqual({ status: 200, body: { status: "ready" } });

    proxy.reveal();
    await strict.proc.waitFor("Redis maxmemory-policy read: noeviction");
    expect(await probe(strict.port)).toEqual({ status: 200, body: { status: "ready" } });
    expect(strict.proc.output()).not.toContain('"msg":"worker-queue ready"');

    expect(await stop(strict.proc)).toBe(0);
    expect(await stop(allowed.proc)).toBe(0);
  }, 60_000);
});
