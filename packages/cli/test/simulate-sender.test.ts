import { retryDelayMs } from "@fanfare-relay/queues/retry-schedule";
import { verify } from "@fanfare-relay/signature/verify";
import { freePort } from "@fanfare-relay/testing/free-port";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { deliverAll, deliverWithRetries } from "../src/simulate/sender.ts";

const SECRET = "whsec_sender_test";

interface Received {
  at: number;
  body: string;
  signatureValid: boolean;
}

type Answer = (attempt: number, response: ServerResponse) => void;

const servers: ReturnType<typeof createServer>[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
    await once(server, "close");
  }
});

/** A real HTTP server that answers each attempt as `answer` says and records what it got. */
async function server(answer: Answer) {
  const received: Received[] = [];
  const http = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      const result = verify({
        payload: body,
        header: request.headers["x-fanfare-signature"],
        secrets: [SECRET],
      });
      received.push({ at: Date.now(), body, signatureValid: result.ok });
      answer(received.length, response);
    });
  });
  servers.push(http);
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  const { port } = http.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/webhooks/fanfare`, received };
}

const event = { id: "evt_sender_1", type: "experience.started", data: {} };

describe("the simulated sender", () => {
  it("retries a failing delivery on the guide's schedule, scaled, until a 2xx", async () => {
    const timeScale = 0.001; // 1 min → 60 ms, 5 min → 300 ms
    const { url, received } = await server((attempt, response) => {
      if (attempt <= 2) response.writeHead(503).end('{"code":"INGEST_UNAVAILABLE"}');
      else response.writeHead(200).end('{"received":true}');
    });
    const report = await deliverWithRetries(event, { url, secret: SECRET, timeScale });

    expect(report.delivered).toBe(true);
    expect(report.attempts.map((attempt) => attempt.status)).toEqual([503, 503, 200]);
    expect(received).toHaveLength(3);
    expect(received.every((r) => r.signatureValid && JSON.parse(r.body).id === event.id)).toBe(
      true,
    );
    const [first, second, third] = received.map((r) => r.at);
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(retryDelayMs(1, timeScale));
    expect((third ?? 0) - (second ?? 0)).toBeGreaterThanOrEqual(retryDelayMs(2, timeScale));
    // The second wait is the longer one: the schedule is followed in order.
    expect(retryDelayMs(1, timeScale)).toBe(60);
    expect(retryDelayMs(2, timeScale)).toBe(300);
  });

  it("treats a timeout like a failure and retries it", async () => {
    const { url, received } = await server((attempt, response) => {
      // The first attempt is never answered.
      if (attempt > 1) response.writeHead(200).end('{"received":true,"duplicate":true}');
    });
    const report = await deliverWithRetries(event, {
      url,
      secret: SECRET,
      timeScale: 0.0001,
      timeoutMs: 200,
    });
    expect(report.attempts.map((a) => [a.status, a.body])).toEqual([
      [undefined, "no answer within 200 ms"],
      [200, '{"received":true,"duplicate":true}'],
    ]);
    expect(report).toMatchObject({ delivered: true, duplicate: true });
    expect(received).toHaveLength(2);
  });

  it("gives up after 6 attempts when nothing listens, and counts it as failed", async () => {
    const url = `http://127.0.0.1:${await freePort()}/webhooks/fanfare`;
    const { reports, stats } = await deliverAll([event], {
      url,
      secret: SECRET,
      timeScale: 0.00001,
    });
    expect(reports[0]?.attempts).toHaveLength(6);
    expect(reports[0]?.attempts[0]?.body).toMatch(/ECONNREFUSED/);
    expect(stats).toMatchObject({
      deliveries: 1,
      attempts: 6,
      retries: 5,
      delivered: 0,
      failed: 1,
      answers: { "no answer": 6 },
    });
  });

  it("keeps every delivery's report in plan order while delivering concurrently", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const { url } = await server((_attempt, response) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setImmediate(() => {
        inFlight -= 1;
        response.writeHead(200).end('{"received":true}');
      });
    });
    const plan = Array.from({ length: 30 }, (_, i) => ({ ...event, id: `evt_sender_c${i}` }));
    const { reports, stats } = await deliverAll(plan, {
      url,
      secret: SECRET,
      timeScale: 0.001,
      concurrency: 5,
    });
    expect(reports.map((r) => r.event.id)).toEqual(plan.map((e) => e.id));
    expect(stats).toMatchObject({ deliveries: 30, attempts: 30, retries: 0, delivered: 30 });
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(5);
  });
});
