import { testRedisUrl } from "@fanfare-relay/testing/redis";
import { testDatabaseAdminUrl } from "@fanfare-relay/testing/postgres";
import { recordDeadLetter } from "@fanfare-relay/worker/dead-letters";
import {
  createWorkerHarness,
  sampleEvent,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import type { Queue } from "bullmq";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./capture-cli.ts";
import { LONG_ERROR, switchedHandlers, type Switchboard } from "./dead-letters-handlers.ts";

const board: Switchboard = { failing: new Set(), runs: new Map() };
let h: WorkerHarness;
let experienceQueue: Queue;
let connection: string[];

beforeAll(async () => {
  // A retry schedule of milliseconds: a failing event is dead-lettered within ~50 ms.
  h = await createWorkerHarness("experience", switchedHandlers(board), { retryTimeScale: 1e-6 });
  const queue = h.producer.queues.get("fanfare-experience");
  if (queue === undefined) throw new Error("no experience queue");
  experienceQueue = queue;
  // The harness does not expose its database's URL; it is the suite's server, that database.
  const { rows } = await sql<{ name: string }>`select current_database() as name`.execute(h.db);
  const url = new URL(testDatabaseAdminUrl);
  url.pathname = `/${rows[0]?.name ?? ""}`;
  connection = [
    "--database-url",
    url.toString(),
    "--redis-url",
    testRedisUrl,
    "--prefix",
    h.prefix,
  ];
});
afterAll(async () => {
  await h.close();
});

const dbOnly = () => connection.slice(0, 2);

async function letterOf(eventId: string) {
  return h.db
    .selectFrom("webhook_dead_letters")
    .selectAll()
    .where("event_id", "=", eventId)
    .executeTakeFirstOrThrow();
}

/** Delivers an event whose handler fails until told otherwise; resolves once it is dead. */
async function deadEvent() {
  const event = sampleEvent("experience.started", { experienceId: `exp_${crypto.randomUUID()}` });
  board.failing.add(event.id);
  const job = await h.deliver(event);
  expect(await job.getState()).toBe("failed");
  return { event, job };
}

async function jobState(jobId: string) {
  return (await experienceQueue.getJob(jobId))?.getState();
}

describe("fanfare-relay dead-letters list", () => {
  it("shows open letters in a table, every column in JSON, resolved ones with --all", async () => {
    const { event, job } = await deadEvent();

    const table = await runCli(["dead-letters", "list", ...dbOnly()]);
    expect(table.error).toBeUndefined();
    const [header, ...rows] = table.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^ID +EVENT ID +TYPE +QUEUE +FAILED AT +RETRIES +RESOLVED AT +ERROR$/);
    const row = rows.find((line) => line.includes(event.id));
    expect(row).toMatch(
      /experience\.started +fanfare-experience +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +0 +- +/,
    );
    // Long errors are cut to one short line in the table…
    expect(row).toContain(`${LONG_ERROR.slice(0, 59)}…`);

    // …and given whole in JSON.
    const json = await runCli(["dead-letters", "list", "--json", ...dbOnly()]);
    const letters = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(letters.find((letter) => letter.eventId === event.id)).toEqual({
      id: expect.any(Number),
      eventId: event.id,
      type: "experience.started",
      queue: "fanfare-experience",
      jobId: job.id,
      failedAt: expect.stringMatching(/Z$/),
      retryCount: 0,
      redrivenAt: null,
      resolvedAt: null,
      error: LONG_ERROR,
    });

    await h.db
      .updateTable("webhook_dead_letters")
      .set({ resolved_at: new Date() })
      .where("event_id", "=", event.id)
      .execute();
    const open = await runCli(["dead-letters", "list", "--json", ...dbOnly()]);
    expect(open.stdout).not.toContain(event.id);
    const all = await runCli(["dead-letters", "list", "--all", "--json", ...dbOnly()]);
    expect(JSON.parse(all.stdout)).toContainEqual(
      expect.objectContaining({ eventId: event.id, resolvedAt: expect.stringMatching(/Z$/) }),
    );
    const otherQueue = await runCli([
      "dead-letters",
      "list",
      "--queue",
      "fanfare-draw",
      ...dbOnly(),
    ]);
    expect(otherQueue.stdout).toBe("no open dead letters\n");
  });
});

describe("fanfare-relay dead-letters replay", () => {
  it("retries the failed job BullMQ kept; it runs again and resolves the letter", async () => {
    const { event, job } = await deadEvent();
    board.failing.delete(event.id); // the cause is fixed

    const run = await runCli(["dead-letters", "replay", event.id, ...connection]);
    expect(run.error).toBeUndefined();
    expect(run.stdout).toBe(
      `${event.id} (fanfare-experience): retried (the failed job is waiting again)\n`,
    );
    await expect.poll(() => jobState(job.id ?? "")).toBe("completed");
    await expect.poll(async () => (await letterOf(event.id)).resolved_at).toBeInstanceOf(Date);
    expect(board.runs.get(event.id)).toBe(1);
    // Not one of the scheduled re-drives, but it restarts their wait.
    const letter = await letterOf(event.id);
    expect(letter.retry_count).toBe(0);
    expect(letter.redriven_at).toBeInstanceOf(Date);
  });

  it("--all re-adds a job BullMQ no longer has, from the stored payload", async () => {
    const { event, job } = await deadEvent();
    await job.remove();
    board.failing.delete(event.id);

    const run = await runCli([
      "dead-letters",
      "replay",
      "--all",
      "--queue",
      "fanfare-experience",
      ...connection,
    ]);
    expect(run.error).toBeUndefined();
    expect(run.stdout).toContain(
      `${event.id} (fanfare-experience): re-added (BullMQ no longer had the job; a new one with the stored payload)\n`,
    );
    await expect.poll(() => jobState(job.id ?? "")).toBe("completed");
    await expect.poll(async () => (await letterOf(event.id)).resolved_at).toBeInstanceOf(Date);
    expect(board.runs.get(event.id)).toBe(1);
    expect((await experienceQueue.getJob(job.id ?? ""))?.data).toEqual(event);
  });

  it("gives a job that still fails one more attempt, which reopens its letter", async () => {
    const { event, job } = await deadEvent();
    const before = await letterOf(event.id);

    const run = await runCli(["dead-letters", "replay", event.id, ...connection]);
    expect(run.stdout).toContain("retried");
    await expect
      .poll(async () => (await letterOf(event.id)).failed_at > before.failed_at)
      .toBe(true);
    await expect.poll(() => jobState(job.id ?? "")).toBe("failed");
    // One attempt, not the whole schedule again: the sender's schedule was already spent.
    expect((await experienceQueue.getJob(job.id ?? ""))?.attemptsMade).toBe(7);
    expect((await letterOf(event.id)).resolved_at).toBeNull();
  });

  it("leaves a waiting job alone, reports unknown and resolved ids, and fails the command", async () => {
    // A draw event: no draw worker runs here, so its job stays waiting.
    const waiting = sampleEvent("draw.entry_created");
    const { jobId } = await h.producer.enqueue(waiting);
    await recordDeadLetter(h.db, {
      eventId: waiting.id,
      type: waiting.type,
      queueName: "fanfare-draw",
      jobId,
      payload: waiting,
      error: "earlier failure",
    });
    const resolved = sampleEvent("draw.entry_created");
    await recordDeadLetter(h.db, {
      eventId: resolved.id,
      type: resolved.type,
      queueName: "fanfare-draw",
      jobId: resolved.id,
      payload: resolved,
      error: "earlier failure",
    });
    await h.db
      .updateTable("webhook_dead_letters")
      .set({ resolved_at: new Date() })
      .where("event_id", "=", resolved.id)
      .execute();

    const run = await runCli([
      "dead-letters",
      "replay",
      waiting.id,
      "evt_never_seen",
      resolved.id,
      ...connection,
    ]);
    expect(run.stdout.split("\n")).toEqual([
      `${waiting.id} (fanfare-draw): already waiting (waiting)`,
      "evt_never_seen: not found: no dead letter has this event id",
      `${resolved.id} (fanfare-draw): already resolved: its event completed, nothing to replay`,
      "",
    ]);
    expect(run.error).toMatchObject({
      code: "CLI_REPLAY_INCOMPLETE",
      message: "1 of 3 dead letter(s) not replayed",
    });
    const draw = h.producer.queues.get("fanfare-draw");
    expect(await (await draw?.getJob(jobId))?.getState()).toBe("waiting");
    expect((await letterOf(waiting.id)).redriven_at).toBeNull();
    // A resolved letter's job was never re-created.
    expect(await draw?.getJob(resolved.id)).toBeUndefined();
  });

  it("needs event ids or --all, and --queue only with --all", async () => {
    expect((await runCli(["dead-letters", "replay", ...connection])).error).toMatchObject({
      code: "CLI_BAD_OPTION",
    });
    expect(
      (await runCli(["dead-letters", "replay", "evt_1", "--all", ...connection])).error,
    ).toMatchObject({ code: "CLI_BAD_OPTION" });
    expect(
      (await runCli(["dead-letters", "replay", "evt_1", "--queue", "fanfare-draw", ...connection]))
        .error,
    ).toMatchObject({ code: "CLI_BAD_OPTION", message: "--queue only applies with --all" });
  });
});
