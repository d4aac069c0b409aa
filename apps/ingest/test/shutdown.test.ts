import { startRedisServer, type RedisServer } from "@fanfare-relay/testing/redis-server";
import { freePort } from "@fanfare-relay/testing/free-port";
import { uniquePrefix } from "@fanfare-relay/testing/redis";
import { waitUntil } from "@fanfare-relay/testing/spawn-app";
import { Redis } from "ioredis";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLogs, createHarness, SECRET, signedDelivery, uniqueEvent } from "./helpers.ts";

const appDir = fileURLToPath(new URL("..", import.meta.url));

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server.stop();
});

function post(base: string) {
  const delivery = signedDelivery(uniqueEvent());
  return fetch(`${base}${delivery.url}`, {
    method: "POST",
    headers: delivery.headers,
    body: delivery.payload,
  }).then(
    async (response) => ({ status: response.status, body: await response.text() }),
    (error: unknown) => ({ status: 0, body: String(error) }),
  );
}

describe("guarantee: a supervisor's SIGTERM drains the ingest, even when it reaches it twice", () => {
  it("the start script is one process: node dist/main.js (the compiled build)", () => {
    const manifest = JSON.parse(readFileSync(`${appDir}package.json`, "utf8")) as {
      scripts: { start: string };
    };
    expect(manifest.scripts.start).toBe("node dist/main.js");
  });

  it("SIGTERM to the ingest's process group twice, 30 ms apart, with 5 deliveries in flight → all 5 answered 200, exit 0", async () => {
    const port = await freePort();
    // As a supervisor runs it (one node process from the app's folder; the sources here), in a
    // process group of its own so the group can be signalled like a container runtime or a shell.
    const child = spawn(
      process.execPath,
      ["--conditions=development", "--import", "tsx", "src/main.ts"],
      {
        cwd: appDir,
        detached: true,
        env: {
          PATH: process.env.PATH ?? "",
          FANFARE_WEBHOOK_SECRETS: SECRET,
          REDIS_URL: server.url,
          REDIS_PREFIX: uniquePrefix("shutdown"),
          PORT: String(port),
          HOST: "127.0.0.1",
          ENQUEUE_TIMEOUT_MS: "20000",
          SHUTDOWN_DRAIN_DELAY_MS: "300",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    const pid = child.pid ?? 0;
    const base = `http://127.0.0.1:${port}`;
    const admin = new Redis(server.url);
    try {
      await waitUntil(() => Promise.resolve(output.includes('"msg":"ingest ready"')), 20_000);
      await waitUntil(async () => (await fetch(`${base}/readyz`)).status === 200);

      // Hold Redis writes so that the deliveries are in flight when the signals arrive.
      await admin.call("CLIENT", "PAUSE", "20000", "WRITE");
      const inFlight = Array.from({ length: 5 }, () => post(base));
      await waitUntil(async () => /blocked_clients:[1-9]/.test(await admin.info("clients")));

      process.kill(-pid, "SIGTERM");
      await new Promise((resolve) => setTimeout(resolve, 30));
      process.kill(-pid, "SIGTERM");
      await waitUntil(() => Promise.resolve(output.includes("signal ignored")));

      await admin.call("CLIENT", "UNPAUSE");
      const answers = await Promise.all(inFlight);
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
      const [code, signal] = await exited;
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(output).toContain("ingest stopped");
      expect(output).not.toContain("second SIGTERM");
    } finally {
      await admin.call("CLIENT", "UNPAUSE").catch(() => undefined);
      admin.disconnect();
      if (child.exitCode === null) process.kill(-pid, "SIGKILL");
    }
  }, 40_000);
});

/** Sends raw bytes on one connection and returns everything the server wrote until it closed. */
function rawExchange(port: number, ...writes: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = "";
    socket.on("connect", () => {
      for (const chunk of writes) socket.write(chunk);
    });
    socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
    socket.on("close", () => {
      resolve(received);
    });
    socket.on("error", reject);
  });
}

/** The JSON bodies of the HTTP responses in `raw`, in order. */
function bodiesOf(raw: string): { status: number; body: unknown }[] {
  return [...raw.matchAll(/HTTP\/1\.1 (\d{3})[^]*?\r\n\r\n(\{[^]*?\})(?=HTTP\/1\.1|$)/g)].map(
    (match) => ({ status: Number(match[1]), body: JSON.parse(match[2] ?? "null") as unknown }),
  );
}

describe("guarantee: every answer of the ingest, even outside its routes, is {error, code}", () => {
  it("a request pipelined on a kept-alive connection while the ingest closes → 503 INGEST_SHUTTING_DOWN {error, code} with Retry-After, after the in-flight delivery's 200", async () => {
    const h = await createHarness({ redisUrl: server.url });
    const admin = new Redis(server.url);
    try {
      const address = await h.app.listen({ port: 0, host: "127.0.0.1" });
      const port = Number(new URL(address).port);
      const delivery = signedDelivery(uniqueEvent());
      const headers = Object.entries({ ...delivery.headers, host: "x" })
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join("");
      const first = `POST ${delivery.url} HTTP/1.1\r\n${headers}content-length: ${Buffer.byteLength(delivery.payload)}\r\n\r\n${delivery.payload}`;
      const second = "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n";

      await admin.call("CLIENT", "PAUSE", "10000", "WRITE");
      const socket = connect(port, "127.0.0.1");
      let received = "";
      socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
      const closed = once(socket, "close");
      await once(socket, "connect");
      socket.write(first);
      await waitUntil(async () => /blocked_clients:[1-9]/.test(await admin.info("clients")));
      const closing = h.app.close();
      socket.write(second);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await admin.call("CLIENT", "UNPAUSE");
      await closed;
      await closing;

      const responses = bodiesOf(received);
      expect(responses).toEqual([
        { status: 200, body: { received: true } },
        {
          status: 503,
          body: { error: expect.any(String), code: "INGEST_SHUTTING_DOWN" },
        },
      ]);
      expect(received).toMatch(/HTTP\/1\.1 503[^]*retry-after: 5/i);
      expect(received).not.toContain('"statusCode"');
    } finally {
      await admin.call("CLIENT", "UNPAUSE").catch(() => undefined);
      admin.disconnect();
      await h.close();
    }
  });

  it("PROPFIND on the webhook path, an unknown method (FOO), a malformed request line, 20 KB of headers, CONNECT x:80 and CONNECT /webhooks/fanfare, over raw TCP → 405 / 400 / 400 / 431 / 400 / 405, each {error, code}, never Fastify's {statusCode}, each one warn line with its code", async () => {
    const logs = captureLogs();
    const h = await createHarness({ redisUrl: server.url, logger: logs.logger });
    try {
      const address = await h.app.listen({ port: 0, host: "127.0.0.1" });
      const port = Number(new URL(address).port);
      const ask = (text: string) =>
        rawExchange(port, text.replace("\n\n", "\r\nconnection: close\r\n\r\n"));

      const propfind = await ask("PROPFIND /webhooks/fanfare HTTP/1.1\r\nhost: x\n\n");
      expect(bodiesOf(propfind)).toEqual([
        { status: 405, body: { error: expect.any(String), code: "INGEST_METHOD_NOT_ALLOWED" } },
      ]);
      expect(propfind).toMatch(/allow: POST/i);

      // Node hands CONNECT to the server's `connect` event; unanswered, the socket was just closed.
      const connectWebhook = await ask("CONNECT /webhooks/fanfare HTTP/1.1\r\nhost: x\n\n");
      expect(bodiesOf(connectWebhook), connectWebhook).toEqual([
        { status: 405, body: { error: expect.any(String), code: "INGEST_METHOD_NOT_ALLOWED" } },
      ]);
      expect(connectWebhook).toMatch(/allow: POST/i);

      for (const [request, status, code] of [
        ["FOO / HTTP/1.1\r\nhost: x\n\n", 400, "INGEST_BAD_REQUEST"],
        ["CONNECT x:80 HTTP/1.1\r\nHost: x\n\n", 400, "INGEST_BAD_REQUEST"],
        ["GARBAGE\n\n", 400, "INGEST_BAD_REQUEST"],
        [
          `GET / HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(20_000)}\n\n`,
          431,
          "INGEST_HEADERS_TOO_LARGE",
        ],
      ] as const) {
        const raw = await ask(request);
        expect(bodiesOf(raw), raw).toEqual([{ status, body: { error: expect.any(String), code } }]);
        expect(raw).not.toContain('"statusCode"');
      }
      const metrics = await h.app.inject({ method: "GET", url: "/metrics" });
      expect(metrics.body).toContain(
        'fanfare_ingest_requests_total{outcome="method_not_allowed"} 2',
      );
      const rejected = logs.lines().filter((line) => line.msg === "webhook rejected");
      expect(rejected.map((line) => [line.level, line.code])).toEqual(
        expect.arrayContaining([
          [40, "INGEST_BAD_REQUEST"],
          [40, "INGEST_HEADERS_TOO_LARGE"],
        ]),
      );
      expect(rejected).toHaveLength(6);
    } finally {
      await h.close();
    }
  });
});
