import { startRedisServer, type RedisServer } from "@fanfare-relay/testing/redis-server";
import { freePort } from "@fanfare-relay/testing/free-port";
import { uniquePrefix } from "@fanfare-relay/testing/redis";
import { spawnApp, waitUntil } from "@fanfare-relay/testing/spawn-app";
import { Redis } from "ioredis";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SECRET, signedDelivery, uniqueEvent } from "./helpers.ts";

const appDir = fileURLToPath(new URL("..", import.meta.url));

const run = (env: Record<string, string>) => spawnApp(appDir, env);

describe("fault: an ingest process with bad configuration, or stopped under load", () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it("refuses to start without secrets, saying which variable is missing", async () => {
    const proc = run({});
    const [code] = (await once(proc.child, "exit")) as [number];
    expect(code).toBe(1);
    expect(proc.output()).toContain("FANFARE_WEBHOOK_SECRETS");
    expect(proc.output()).not.toMatch(/at .*\.ts:\d+/);
  }, 30_000);

  it("on SIGTERM fails readiness first, finishes in-flight requests, exits 0, and never logs secrets or payloads, even at debug", async () => {
    const port = await freePort();
    const proc = run({
      FANFARE_WEBHOOK_SECRETS: SECRET,
      REDIS_URL: server.url,
      REDIS_PREFIX: uniquePrefix("proc"),
      PORT: String(port),
      HOST: "127.0.0.1",
      ENQUEUE_TIMEOUT_MS: "20000",
      SHUTDOWN_DRAIN_DELAY_MS: "1000",
      LOG_LEVEL: "debug",
    });
    const base = `http://127.0.0.1:${port}`;
    await proc.waitFor('"msg":"ingest ready"');

    const event = uniqueEvent({
      data: {
        consumerId: "con_private_person",
        experienceId: "e",
        position: 1,
        enteredAt: new Date().toISOString(),
      },
    });
    const delivery = signedDelivery(event);
    const send = () =>
      fetch(`${base}${delivery.url}`, {
        method: "POST",
        headers: delivery.headers,
        body: delivery.payload,
      });
    expect((await send()).status).toBe(200);

    // Hold Redis writes so that the next delivery is in flight when SIGTERM arrives.
    const admin = new Redis(server.url);
    await admin.call("CLIENT", "PAUSE", "20000", "WRITE");
    const second = signedDelivery(uniqueEvent());
    const inFlight = fetch(`${base}${second.url}`, {
      method: "POST",
      headers: second.headers,
      body: second.payload,
    }).catch((error: unknown) => error);
    const exited = once(proc.child, "exit");
    // The delivery is in flight once its enqueue shows up as a client blocked by the pause.
    await waitUntil(async () => /blocked_clients:[1-9]/.test(await admin.info("clients")));
    proc.child.kill("SIGTERM");
    await proc.waitFor("shutting down");

    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: "draining" });

    await admin.call("CLIENT", "UNPAUSE");
    admin.disconnect();
    const finished = await inFlight;
    expect(finished).toBeInstanceOf(Response);
    expect((finished as Response).status).toBe(200);

    const [code] = (await exited) as [number];
    expect(code).toBe(0);
    const logs = proc.output();
    expect(logs).toContain("ingest stopped");
    expect(logs).toContain(event.id);
    expect(logs).not.toContain(SECRET);
    expect(logs).not.toContain(delivery.headers["x-fanfare-signature"].split("v1=")[1]);
    expect(logs).not.toContain("con_private_person");
  }, 30_000);
});
