import { connect } from "@fanfare-relay/db/connect";
import { familyQueueNames } from "@fanfare-relay/events/families";
import { afterEach, describe, expect, it } from "vitest";
import { createWorkerHarness, sampleEvent, type WorkerHarness } from "../src/testing/harness.ts";
import { startOwnWorker } from "./own-worker.ts";
import { stubHandlers } from "./stub-handlers.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * A worker whose PostgreSQL is reached through a proxy the test can cut: the shared server keeps
 * running for everyone else, and the test's own queries (t.db) go to it directly.
 */
async function workerBehindProxy(t: WorkerHarness) {
  const url = new URL(t.databaseUrl);
  const proxy: TcpProxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
  cleanups.push(() => proxy.close());
  url.host = `127.0.0.1:${String(proxy.port)}`;
  const db = connect({
    connectionString: url.toString(),
    max: 4,
    connectTimeoutMs: 1_000,
    onError: () => undefined,
  });
  cleanups.push(() => db.destroy());
  await proxy.cut();
  const own = startOwnWorker(t, db, { reconcileIntervalMs: 200, reconcileGraceMs: 0 });
  cleanups.push(() => own.close());
  return { proxy, worker: own.worker, logs: own.logs };
}

describe("fault: PostgreSQL unreachable while an event fails for the last time", () => {
  it("1 event, all 6 attempts with PostgreSQL cut → 1 dead_letter alert (log and mail) at once; PostgreSQL back → exactly 1 dead letter and a `dead` row, written by the reconciliation, no second alert", async () => {
    const t = await createWorkerHarness("experience", stubHandlers({ failures: 0, runs: 0 }));
    cleanups.push(() => t.close());
    // Only the worker behind the proxy takes jobs.
    await t.worker.close();
    const { proxy, worker, logs } = await workerBehindProxy(t);
    const queue = t.producer.queues.get(familyQueueNames.experience);
    if (queue === undefined) throw new Error("no experience queue");

    const event = sampleEvent("experience.started");
    const { jobId } = await t.producer.enqueue(event);
    await expect
      .poll(async () => (await queue.getJob(jobId))?.getState(), { timeout: 15_000 })
      .toBe("failed");

    const alerts = () => logs.filter((line) => line.alert === "dead_letter");
    expect(alerts()).toEqual([
      expect.objectContaining({ eventId: event.id, jobId, attempts: 6, level: 50 }),
    ]);
    const [mail] = await t.smtp.waitForMails(1);
    expect(mail?.subject).toContain(event.id);
    expect(await t.db.selectFrom("webhook_dead_letters").selectAll().execute()).toEqual([]);
    expect(await t.db.selectFrom("webhook_events").selectAll().execute()).toEqual([]);

    await proxy.restore();
    await expect
      .poll(() => t.db.selectFrom("webhook_dead_letters").selectAll().execute(), {
        timeout: 10_000,
      })
      .toEqual([
        expect.objectContaining({
          event_id: event.id,
          job_id: jobId,
          queue_name: "fanfare-experience",
          resolved_at: null,
          payload: event,
        }),
      ]);
    const row = await t.db
      .selectFrom("webhook_events")
      .selectAll()
      .where("event_id", "=", event.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: "dead", attempts: 6, processed_at: null });
    // More rounds change nothing, and the alert that already went out is not repeated.
    expect(await worker.reconcileDeadLetters()).toBe(0);
    expect(await worker.reconcileDeadLetters()).toBe(0);
    expect(await t.db.selectFrom("webhook_dead_letters").selectAll().execute()).toHaveLength(1);
    expect(alerts()).toHaveLength(1);
    expect(logs.some((line) => line.msg === "dead letters written by the reconciliation")).toBe(
      true,
    );
  }, 40_000);
});
