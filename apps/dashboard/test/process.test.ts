import { freePort } from "@fanfare-relay/testing/free-port";
import {
  connectTestRedis,
  deleteKeys,
  testRedisUrl,
  uniquePrefix,
} from "@fanfare-relay/testing/redis";
import { spawnApp } from "@fanfare-relay/testing/spawn-app";
import { once } from "node:events";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const appDir = fileURLToPath(new URL("..", import.meta.url));
const prefix = uniquePrefix("dashboard-proc");

afterAll(async () => {
  const redis = connectTestRedis();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

async function start(env: Record<string, string>) {
  const port = await freePort();
  const proc = spawnApp(appDir, {
    REDIS_URL: testRedisUrl,
    REDIS_PREFIX: prefix,
    PORT: String(port),
    HOST: "127.0.0.1",
    ...env,
  });
  return { proc, base: `http://127.0.0.1:${port}` };
}

async function stop(proc: ReturnType<typeof spawnApp>) {
  const exited = once(proc.child, "exit");
  proc.child.kill("SIGTERM");
  const [code] = (await exited) as [number];
  return code;
}

const login = (base: string, username: string, password: string) =>
  fetch(`${base}/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html" },
    body: new URLSearchParams({ username, password }).toString(),
    redirect: "manual",
  });

describe("fault: a dashboard process with bad configuration, or stopped", () => {
  it("refuses to start without admin credentials and a session secret", async () => {
    const { proc } = await start({});
    const [code] = (await once(proc.child, "exit")) as [number];
    expect(code).toBe(1);
    expect(proc.output()).toContain("DASHBOARD_ADMIN_USER and DASHBOARD_ADMIN_PASSWORD");
    expect(proc.output()).toContain("DASHBOARD_SESSION_SECRET");
    expect(proc.output()).not.toMatch(/at .*\.ts:\d+/);
  });

  it("with DASHBOARD_DEMO=true starts with demo users, says so, and stops on SIGTERM", async () => {
    const { proc, base } = await start({ DASHBOARD_DEMO: "true" });
    await proc.waitFor('"msg":"dashboard ready"');
    expect(proc.output()).toContain('"level":40');
    expect(proc.output()).toContain("DASHBOARD_DEMO=true");

    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const response = await login(base, "admin", "admin");
    expect(response.status).toBe(303);
    const cookie = response.headers.get("set-cookie") ?? "";
    const queues = await fetch(`${base}/api/queues`, {
      headers: { cookie: cookie.split(";")[0] ?? "" },
    });
    expect(queues.status).toBe(200);

    expect(await stop(proc)).toBe(0);
    expect(proc.output()).toContain("dashboard stopped");
  });

  it("with real credentials, sets a Secure cookie when asked and never logs a secret", async () => {
    const secrets = {
      DASHBOARD_ADMIN_USER: "ops",
      DASHBOARD_ADMIN_PASSWORD: "process-admin-password",
      DASHBOARD_VIEWER_USER: "watcher",
      DASHBOARD_VIEWER_PASSWORD: "process-viewer-password",
      DASHBOARD_SESSION_SECRET: "process-session-secret-0123456789abcdef",
    };
    const { proc, base } = await start({
      ...secrets,
      DASHBOARD_SECURE_COOKIE: "true",
      LOG_LEVEL: "trace",
    });
    await proc.waitFor('"msg":"dashboard ready"');
    expect(proc.output()).not.toContain("DASHBOARD_DEMO");

    expect((await login(base, "ops", "nope-nope")).status).toBe(401);
    const response = await login(base, "ops", secrets.DASHBOARD_ADMIN_PASSWORD);
    expect(response.status).toBe(303);
    const cookie = response.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);

    expect(await stop(proc)).toBe(0);
    const output = proc.output();
    expect(output).toContain('"msg":"logged in"');
    for (const value of [
      secrets.DASHBOARD_ADMIN_PASSWORD,
      secrets.DASHBOARD_VIEWER_PASSWORD,
      secrets.DASHBOARD_SESSION_SECRET,
      "nope-nope",
      cookie.split(";")[0]?.split("=")[1] ?? "no cookie",
    ]) {
      expect(output).not.toContain(value);
    }
  });
});

describe("fault: Redis is down when the dashboard starts", () => {
  it("start with REDIS_URL on a port nothing listens on → the process keeps running, logs 'redis not reachable yet' then 'dashboard ready', /healthz 503, every output line JSON", async () => {
    const { proc, base } = await start({
      DASHBOARD_DEMO: "true",
      REDIS_URL: `redis://127.0.0.1:${String(await freePort())}`,
    });
    const exited = once(proc.child, "exit");
    try {
      // It used to stop here: "shutting down after an unexpected error … ECONNREFUSED", exit 1.
      await Promise.race([
        proc.waitFor('"msg":"dashboard ready"'),
        exited.then(() => {
          throw new Error(`exited early:\n${proc.output()}`);
        }),
      ]);
      expect(proc.output()).toContain("redis not reachable yet");
      expect((await fetch(`${base}/healthz`)).status).toBe(503);
    } finally {
      if (proc.child.exitCode === null) proc.child.kill("SIGTERM");
      await exited;
    }
    for (const line of proc
      .output()
      .split("\n")
      .filter((text) => text.trim() !== "")) {
      expect(() => JSON.parse(line) as unknown, line).not.toThrow();
    }
  }, 30_000);
});

describe("fault: a supervisor sends SIGTERM more than once", () => {
  it("SIGTERM, SIGTERM again while a request is still arriving → the second is ignored, the request gets 503 DASHBOARD_UNAVAILABLE, exit 0", async () => {
    const { proc, base } = await start({ DASHBOARD_DEMO: "true" });
    await proc.waitFor('"msg":"dashboard ready"');
    // A request whose headers are not finished keeps the drain waiting for it.
    const socket = connect(Number(new URL(base).port), "127.0.0.1");
    await once(socket, "connect");
    let answer = "";
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
    const answered = once(socket, "close");
    socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    const exited = once(proc.child, "exit");

    proc.child.kill("SIGTERM");
    await proc.waitFor('"msg":"shutting down"');
    proc.child.kill("SIGTERM");
    await proc.waitFor("already shutting down; signal ignored");
    socket.write("\r\n");
    await answered;
    const [code] = (await exited) as [number];

    expect(code).toBe(0);
    expect(answer).toMatch(/^HTTP\/1\.1 503/);
    expect(JSON.parse(answer.split("\r\n\r\n")[1] ?? "")).toEqual({
      error: expect.any(String),
      code: "DASHBOARD_UNAVAILABLE",
    });
    expect(proc.output()).toContain("dashboard stopped");
  });
});
