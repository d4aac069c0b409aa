import { connect } from "@fanfare-relay/db/connect";
import { sql } from "kysely";
import { once } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { createWorker } from "../src/create-worker.ts";
import type { HandlerMap } from "../src/handler.ts";
import { createMailer } from "../src/mailer.ts";
import { createWorkerHarness, sampleEvent, type WorkerHarness } from "../src/testing/harness.ts";
import { createWorkerConnection } from "@fanfare-relay/queues/redis-connection";
import { testRedisUrl } from "@fanfare-relay/testing/redis";
import { createLogger } from "@fanfare-relay/logging/logger";
import { stubHandlers } from "./stub-handlers.ts";

let h: WorkerHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("fault: a worker dies mid-job and BullMQ fails the job by itself (stalled too often)", () => {
  it("1 job whose worker dies holding it, maxStalledCount 0 → BullMQ fails it as stalled, 1 dead letter written by the healthy worker", async () => {
    // A worker whose handler never returns, then dies without releasing its lock.
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const hang = async () => {
      started();
      await new Promise(() => undefined);
    };
    const hanging: HandlerMap<"experience"> = {
      "experience.started": hang,
      "experience.ended": hang,
      "experience.paused": hang,
      "experience.resumed": hang,
    };
    const t = await createWorkerHarness("experience", stubHandlers({ failures: 0, runs: 0 }), {
      lockDurationMs: 1_000,
      stalledIntervalMs: 500,
      maxStalledCount: 0,
    });
    h = t;
    await t.worker.close();
    const connection = createWorkerConnection(testRedisUrl);
    // Its own pool: the session the test kills below is this worker's, as in a real crash.
    const doomedDb = connect({ connectionString: t.databaseUrl, max: 2, onError: () => undefined });
    const doomed = createWorker({
      family: "experience",
      handlers: hanging,
      db: doomedDb,
      connection,
      prefix: t.prefix,
      mailer: createMailer({ smtpUrl: t.smtp.url, from: "x <x@shop.test>" }),
      logger: createLogger("doomed", "silent"),
      concurrency: 1,
      lockDurationMs: 1_000,
      stalledIntervalMs: 60_000,
      messageIdDomain: "shop.test",
      shopUrl: "https://shop.test",
      redriveIntervalMs: 0,
    });
    doomed.start();
    const event = sampleEvent("experience.started");
    await t.producer.enqueue(event);
    await running;
    // As if the process had died: no lock renewal, and its database session (holding the
    // event's claim in an open transaction) ends.
    await doomed.worker.close(true);
    connection.disconnect();
    await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = current_database() AND state = 'idle in transaction'`.execute(t.db);

    // A healthy worker's stalled check finds the job and BullMQ fails it (limit 0).
    const rescuerConnection = createWorkerConnection(testRedisUrl);
    const rescuer = createWorker({
      family: "experience",
      handlers: stubHandlers({ failures: 0, runs: 0 }),
      db: t.db,
      connection: rescuerConnection,
      prefix: t.prefix,
      mailer: createMailer({ smtpUrl: t.smtp.url, from: "x <x@shop.test>" }),
      logger: createLogger("rescuer", "silent"),
      concurrency: 1,
      lockDurationMs: 1_000,
      stalledIntervalMs: 500,
      maxStalledCount: 0,
      messageIdDomain: "shop.test",
      shopUrl: "https://shop.test",
      redriveIntervalMs: 0,
    });
    rescuer.start();
    const [, error] = (await once(rescuer.worker, "failed")) as [unknown, Error];
    expect(error.message).toContain("stalled");
    await expect
      .poll(() => t.db.selectFrom("webhook_dead_letters").selectAll().execute(), { timeout: 5_000 })
      .toEqual([
        expect.objectContaining({ event_id: event.id, error: expect.stringContaining("stalled") }),
      ]);
    await rescuer.close();
    await rescuerConnection.quit();
  }, 20_000);
});
