import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDashboard, type DashboardHarness } from "./helpers.ts";

let d: DashboardHarness;
let port = 0;
let admin: Record<string, string>;

beforeAll(async () => {
  d = await createDashboard();
  admin = await d.login();
  const url = new URL(await d.app.listen({ port: 0, host: "127.0.0.1" }));
  port = Number(url.port);
});
afterAll(async () => {
  await d.close();
});

interface RawResponse {
  status: number;
  headers: string;
  body: string;
}

/** Sends `request` as written on a fresh TCP connection; resolves with the first response. */
function raw(request: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    let data = "";
    socket.on("data", (chunk: Buffer) => (data += chunk.toString("latin1")));
    socket.on("error", reject);
    socket.on("close", () => {
      const [head = "", ...rest] = data.split("\r\n\r\n");
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
        headers: head,
        body: rest.join("\r\n\r\n"),
      });
    });
  });
}

const cookieHeader = () =>
  Object.entries(admin)
    .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
    .join("; ");

describe("guarantee: every error the dashboard answers is { error, code }", () => {
  it.each<[string, number, () => string]>([
    [
      "an unknown method `FOO`",
      400,
      () => "FOO / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ],
    ["a request line that is not HTTP", 400, () => "this is not http\r\n\r\n"],
    [
      "a URL that does not decode",
      400,
      () => "GET /%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ],
    [
      "a method no route has, PROPFIND, with a session",
      404,
      () =>
        `PROPFIND /healthz HTTP/1.1\r\nHost: x\r\nCookie: ${cookieHeader()}\r\nConnection: close\r\n\r\n`,
    ],
    // Node hands CONNECT to the server's `connect` event; unanswered, the socket was just closed.
    ["CONNECT x:80", 400, () => "CONNECT x:80 HTTP/1.1\r\nHost: x\r\n\r\n"],
    [
      "CONNECT /login, with a session",
      400,
      () => `CONNECT /login HTTP/1.1\r\nHost: x\r\nCookie: ${cookieHeader()}\r\n\r\n`,
    ],
    [
      "headers over Node's limit",
      431,
      () => `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
    ],
  ])(
    "%s → %i with { error, code }, never Fastify's or Node's body",
    async (_name, status, request) => {
      const response = await raw(request());
      expect(response.status).toBe(status);
      expect(JSON.parse(response.body)).toEqual({
        error: expect.any(String),
        code: expect.stringMatching(/^DASHBOARD_/),
      });
    },
  );

  it("malformed JSON and an unsupported content type on Bull Board's routes and ours → 400 / 415 DASHBOARD_BAD_REQUEST", async () => {
    for (const [url, method] of [
      ["/api/queues/fanfare-queue/evt_1/update-data", "PATCH"],
      ["/api/queues/fanfare-queue/evt_1/retry", "PUT"],
      ["/login", "POST"],
    ] as const) {
      const bad = await d.app.inject({
        method,
        url,
        cookies: admin,
        headers: { "content-type": "application/json" },
        payload: "{ not json",
      });
      expect(bad.statusCode, url).toBe(400);
      expect(bad.json(), url).toEqual({ error: expect.any(String), code: "DASHBOARD_BAD_REQUEST" });
      const unsupported = await d.app.inject({
        method,
        url,
        cookies: admin,
        headers: { "content-type": "application/x-unknown" },
        payload: "x",
      });
      expect(unsupported.statusCode, url).toBe(415);
      expect(unsupported.json(), url).toEqual({
        error: expect.any(String),
        code: "DASHBOARD_BAD_REQUEST",
      });
    }
  });
});

describe("guarantee: Bull Board's own error answers are { error, code } too", () => {
  it.each<[string, number, string, string]>([
    ["/api/queues/nope/x", 404, "DASHBOARD_NOT_FOUND", "no such queue"],
    ["/api/queues/fanfare-queue/no-such-job", 404, "DASHBOARD_NOT_FOUND", "no such job"],
    ["/api/queues?activeQueue=fanfare-queue&status=bogus", 400, "DASHBOARD_BAD_REQUEST", ""],
  ])("GET %s → %i %s, not its translation key", async (url, status, code, message) => {
    const response = await d.app.inject({ url, cookies: admin });
    expect(response.statusCode).toBe(status);
    const body = response.json<{ error: unknown; code: unknown }>();
    expect(body).toEqual({ error: expect.stringContaining(message) as unknown, code });
    expect(body.error).not.toMatch(/ERRORS\./);
  });
});

describe("guarantee: /favicon.ico never answers 404", () => {
  it("GET and HEAD /favicon.ico without a session → 204, no body", async () => {
    for (const method of ["GET", "HEAD"] as const) {
      const response = await d.app.inject({ method, url: "/favicon.ico" });
      expect(response.statusCode, method).toBe(204);
      expect(response.body, method).toBe("");
    }
  });
});

describe("guarantee: a request during shutdown gets 503 DASHBOARD_UNAVAILABLE", () => {
  it("1 request in flight when close starts, 1 more on the same connection → 200 then 503 { error, code } with Retry-After", async () => {
    const extra = await createDashboard({ ready: false });
    let release: () => void = () => undefined;
    let entered: () => void = () => undefined;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    extra.app.get("/slow", { config: { public: true } }, async () => {
      entered();
      await new Promise<void>((resolve) => (release = resolve));
      return { ok: true };
    });
    const url = new URL(await extra.app.listen({ port: 0, host: "127.0.0.1" }));
    const socket = connect(Number(url.port), "127.0.0.1");
    let data = "";
    socket.on("data", (chunk: Buffer) => (data += chunk.toString("latin1")));
    const ended = new Promise((resolve) => socket.on("close", resolve));
    socket.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    await inHandler;
    const closed = extra.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.write(`GET /api/queues HTTP/1.1\r\nHost: x\r\nCookie: ${cookieHeader()}\r\n\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    await ended;
    await closed;
    const responses = data.split(/(?=HTTP\/1\.1 )/);
    expect(responses[0]).toMatch(/^HTTP\/1\.1 200/);
    expect(responses[1]).toMatch(/^HTTP\/1\.1 503/);
    expect(responses[1]).toMatch(/retry-after: 5/i);
    const body = responses[1]?.split("\r\n\r\n")[1] ?? "";
    expect(JSON.parse(body)).toEqual({ error: expect.any(String), code: "DASHBOARD_UNAVAILABLE" });
  });
});
