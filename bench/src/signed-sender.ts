// Delivers events to a webhook URL as the sender does: one signed POST each (signed when sent, so
// a long run never trips the signature's tolerance), several connections at once (keep-alive),
// and a delivery answered with anything but 2xx, or not answered, tried again after a pause.
import type { Envelope } from "@fanfare-relay/events/envelope";
import { sign } from "@fanfare-relay/signature/sign";
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";

export interface SendOptions {
  url: string;
  secret: string;
  events: readonly Envelope[];
  /** Deliveries in flight at once (one connection each). */
  concurrency: number;
  /** Tries per event before giving up on it. */
  maxAttempts?: number;
  retryDelayMs?: number;
}

export interface SendReport {
  /** Events answered 2xx (each counted once). */
  acknowledged: number;
  /** Events given up on after maxAttempts. */
  abandoned: number;
  /** Responses other than 2xx, and requests that failed (connection errors), over all attempts. */
  non2xx: number;
  failedRequests: number;
  /** performance.now() of the first request and of the last acknowledgement. */
  startedAtMs: number;
  finishedAtMs: number;
  /** Request → response of each acknowledged attempt, ms (unsorted). */
  latenciesMs: Float64Array;
  /** This process's CPU while sending, µs (the load generator's cost). */
  cpuMicros: number;
}

type Outcome = { status: number } | { error: Error };

function post(url: URL, agent: Agent, body: string, signature: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const outgoing = request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "x-fanfare-signature": signature,
        },
      },
      (response) => {
        response.resume();
        response.on("end", () => {
          resolve({ status: response.statusCode ?? 0 });
        });
        response.on("error", (error) => {
          resolve({ error });
        });
      },
    );
    outgoing.on("error", (error) => {
      resolve({ error });
    });
    outgoing.end(body);
  });
}

/** Sends every event, in order, `concurrency` at a time; resolves when each is acknowledged or abandoned. */
export async function sendSigned(options: SendOptions): Promise<SendReport> {
  const { events, secret, concurrency, maxAttempts = 20, retryDelayMs = 500 } = options;
  const url = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = new Float64Array(events.length);
  let next = 0;
  let acknowledged = 0;
  let abandoned = 0;
  let non2xx = 0;
  let failedRequests = 0;
  const cpuBefore = process.cpuUsage();
  const startedAtMs = performance.now();
  let finishedAtMs = startedAtMs;

  const lane = async () => {
    for (let index = next++; index < events.length; index = next++) {
      const body = JSON.stringify(events[index]);
      for (let attempt = 1; ; attempt += 1) {
        const sentAt = performance.now();
        const outcome = await post(url, agent, body, sign({ payload: body, secrets: secret }));
        if ("status" in outcome && outcome.status >= 200 && outcome.status < 300) {
          finishedAtMs = performance.now();
          latencies[acknowledged] = finishedAtMs - sentAt;
          acknowledged += 1;
          break;
        }
        if ("status" in outcome) non2xx += 1;
        else failedRequests += 1;
        if (attempt >= maxAttempts) {
          abandoned += 1;
          break;
        }
        await sleep(retryDelayMs);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    agent.destroy();
  }
  const cpu = process.cpuUsage(cpuBefore);
  return {
    acknowledged,
    abandoned,
    non2xx,
    failedRequests,
    startedAtMs,
    finishedAtMs,
    latenciesMs: latencies.subarray(0, acknowledged),
    cpuMicros: cpu.user + cpu.system,
  };
}
