import type { FastifyInstance } from "fastify";
import { once } from "node:events";
import { connect as connectTcp } from "node:net";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHealthServer, type ReadinessProblem } from "../src/health-server.ts";

let app: FastifyInstance;
let base: string;
let port: number;
let problems: ReadinessProblem[] = [];

beforeAll(async () => {
  app = buildHealthServer({
    isHealthy: () => true,
    readinessProblems: () => problems,
    registry: new Registry(),
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  port = address.port;
  base = `http://127.0.0.1:${String(port)}`;
});
afterAll(async () => {
  await app.close();
});

/** Sends bytes as they are (fetch would refuse to send a malformed request) and reads the answer. */
async function rawRequest(bytes: string): Promise<string> {
  const socket = connectTcp(port, "127.0.0.1");
  await once(socket, "connect");
  let answer = "";
  socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
  socket.write(bytes);
  await once(socket, "close");
  return answer;
}

function bodyOf(answer: string): unknown {
  return JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
}

describe("guarantee: the worker's health server answers every error as {error, code} JSON", () => {
  it("GET /nope, POST /healthz, DELETE /metrics → 404 WORKER_NOT_FOUND, 405 WORKER_METHOD_NOT_ALLOWED (Allow: GET, HEAD) twice", async () => {
    const notFound = await fetch(`${base}/nope`);
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toEqual({ error: "Not found", code: "WORKER_NOT_FOUND" });
    for (const [method, path] of [
      ["POST", "/healthz"],
      ["DELETE", "/metrics"],
    ] as const) {
      const response = await fetch(`${base}${path}`, { method });
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("GET, HEAD");
      expect(await response.json()).toEqual({
        error: "Method not allowed",
        code: "WORKER_METHOD_NOT_ALLOWED",
      });
    }
  });

  it("CONNECT x:80 and CONNECT /healthz over raw TCP → 405 WORKER_METHOD_NOT_ALLOWED (Allow: GET, HEAD), connection closed; the server still answers after", async () => {
    for (const target of ["x:80", "/healthz"]) {
      // Unanswered, Node just closed the socket: the answer was "".
      const answer = await rawRequest(`CONNECT ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(answer).toMatch(/^HTTP\/1\.1 405 /);
      expect(answer).toMatch(/\r\nAllow: GET, HEAD\r\n/i);
      expect(bodyOf(answer)).toEqual({
        error: "Method not allowed",
        code: "WORKER_METHOD_NOT_ALLOWED",
      });
    }
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it("a malformed URL, a body that is not JSON, an unknown method and a garbled request line → 400 WORKER_BAD_REQUEST, never Fastify's default body", async () => {
    const badUrl = await fetch(`${base}/%zz`);
    expect(badUrl.status).toBe(400);
    expect(await badUrl.json()).toEqual({ error: "Bad request", code: "WORKER_BAD_REQUEST" });

    const badJson = await fetch(`${base}/readyz?x=1`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{",
    });
    expect([400, 405]).toContain(badJson.status);
    const badJsonBody = (await badJson.json()) as Record<string, unknown>;
    expect(Object.keys(badJsonBody).sort()).toEqual(["code", "error"]);

    for (const request of [
      "FOO /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nHost: x\r\nbroken header line\r\n\r\n",
      "NOT-HTTP\r\n\r\n",
    ]) {
      const answer = await rawRequest(request);
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(bodyOf(answer)).toEqual({ error: "Bad request", code: "WORKER_BAD_REQUEST" });
    }
  });

  it("/readyz with 0 then 2 problems → 200 {status: ready}, then 503 naming both codes; /healthz stays 200", async () => {
    problems = [];
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });

    problems = [
      { code: "WORKER_DATABASE_UNAVAILABLE", message: "database unreachable: connection refused" },
      { code: "WORKER_REDIS_EVICTION_POLICY", message: "maxmemory-policy is allkeys-lru" },
    ];
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({
      status: "not_ready",
      code: "WORKER_DATABASE_UNAVAILABLE",
      reasons: problems,
    });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    problems = [];
  });
});
