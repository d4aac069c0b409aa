import type { Envelope } from "@fanfare-relay/events/envelope";
import { families, type Family } from "@fanfare-relay/events/families";
import { sign } from "@fanfare-relay/signature/sign";
import { spawnApp, type RunningApp } from "@fanfare-relay/testing/spawn-app";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

export const SECRET = "whsec_e2e_0123456789abcdef";

/** The repository's root, where `apps/<app>` are: processes are started from there as in production. */
const root = fileURLToPath(new URL("../../../", import.meta.url));

export interface RelayProcesses {
  /** `http://127.0.0.1:<port>` of the ingest. */
  ingestUrl: string;
  ingest: RunningApp;
  workers: Map<Family, RunningApp>;
  /** Signs and POSTs one delivery; resolves with the status and body, never rejects on a status. */
  deliver(event: Envelope): Promise<{ status: number; body: string }>;
  /** SIGTERM to every process, then waits for each to exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

export interface RelayProcessOptions {
  /** Where Redis is and its prefix: REDIS_URL or REDIS_CLUSTER_NODES or REDIS_SENTINELS, … */
  redisEnv: Record<string, string>;
  databaseUrl: string;
  smtpUrl: string;
  /** Families whose worker apps run; default all five. */
  families?: readonly Family[];
  /** Extra settings for every process (e.g. RETRY_TIME_SCALE). */
  env?: Record<string, string>;
}

/**
 * Starts the ingest and the worker apps as their own processes (their sources under tsx,
 * as `pnpm start` runs them), configured only through their environment, and resolves once
 * each has logged its ready line. Rejects, after killing what it started, when one exits first.
 */
export async function startRelayProcesses(options: RelayProcessOptions): Promise<RelayProcesses> {
  const shared = { LOG_LEVEL: "info", HOST: "127.0.0.1", ...options.redisEnv, ...options.env };
  const started: RunningApp[] = [];
  const ready = async (app: RunningApp, line: string) => {
    const exited = once(app.child, "exit").then(() => {
      throw new Error(
        `${line.split(" ")[0] ?? "app"} exited before it was ready:\n${app.output()}`,
      );
    });
    await Promise.race([app.waitFor(line), exited]);
  };
  try {
    // Port 0 everywhere: each app binds a port the system picks, so parallel test files cannot
    // race for one that was free a moment before (EADDRINUSE); the ingest's is read from its log.
    const ingest = spawnApp(`${root}apps/ingest`, {
      ...shared,
      PORT: "0",
      FANFARE_WEBHOOK_SECRETS: SECRET,
      SHUTDOWN_DRAIN_DELAY_MS: "0",
    });
    started.push(ingest);
    const workers = new Map<Family, RunningApp>();
    for (const family of options.families ?? families) {
      const worker = spawnApp(`${root}apps/worker-${family}`, {
        ...shared,
        PORT: "0",
        DATABASE_URL: options.databaseUrl,
        SMTP_URL: options.smtpUrl,
        MAIL_FROM: "Shop <no-reply@shop.test>",
        WORKER_CONCURRENCY: "20",
        // A job whose worker lost Redis mid-attempt is taken over in seconds, not 30 s.
        JOB_LOCK_DURATION_MS: "5000",
        STALLED_INTERVAL_MS: "2000",
      });
      started.push(worker);
      workers.set(family, worker);
    }
    await Promise.all([
      ready(ingest, "ingest ready"),
      ...[...workers].map(([family, worker]) => ready(worker, `worker-${family} ready`)),
    ]);
    const listening = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(ingest.output());
    if (listening?.[1] === undefined) throw new Error(`no listening line:\n${ingest.output()}`);
    const ingestUrl = listening[1];
    return {
      ingestUrl,
      ingest,
      workers,
      async deliver(event) {
        const payload = JSON.stringify(event);
        const response = await fetch(`${ingestUrl}/webhooks/fanfare`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-fanfare-signature": sign({ payload, secrets: SECRET }),
          },
          body: payload,
        });
        return { status: response.status, body: await response.text() };
      },
      stop: (graceMs = 10_000) => stopAll(started, graceMs),
    };
  } catch (error) {
    await stopAll(started, 0);
    throw error;
  }
}

async function stopAll(apps: readonly RunningApp[], graceMs: number): Promise<void> {
  await Promise.all(
    apps.map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill(graceMs > 0 ? "SIGTERM" : "SIGKILL");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    }),
  );
}
