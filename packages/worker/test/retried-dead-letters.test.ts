import type { Job } from "bullmq";
import { once } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import {
  createWorkerHarness,
  sampleEvent,
  type HarnessOverrides,
  type WorkerHarness,
} from "../src/testing/harness.ts";
import { stubHandlers, type StubControl } from "./stub-handlers.ts";

let h: WorkerHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function harness(control: StubControl, overrides: HarnessOverrides<"experience"> = {}) {
  h = await createWorkerHarness("experience", stubHandlers(control), {
    opsAlertEmail: "ops@shop.test",
    ...overrides,
  });
  return h;
}

async function letters(t: WorkerHarness) {
  return t.db.selectFrom("webhook_dead_letters").selectAll().execute();
}

const alertLines = (t: WorkerHarness) => t.logs.filter((line) => line.alert === "dead_letter");

/** What Bull Board's Retry does (`job.retry(state)`), then waits for the job to settle again. */
async function retryAsTheDashboardDoes(t: WorkerHarness, job: Job): Promise<Job> {
  const settled = t.settled(job.id ?? "");
  await job.retry("failed");
  return settled;
}

/** How many times `text` occurs in one stack entry. */
const occurrences = (entry: string, text: string) => entry.split(text).length - 1;

describe("fault: an operator retries a dead letter and it fails again", () => {
  it("poison payload → 1 letter (retry count 0), 1 alert, 1 stack; Retry → fails at once → same letter, retry count 1, failed at updated, still open, 1 repeat line (warn, not paged), 2 stacks of 2 attempts", async () => {
    const t = await harness({ failures: 0, runs: 0 });
    const poison = sampleEvent("experience.started", { startedAt: "yesterday" });

    const job = await t.deliver(poison);
    expect(await job.getState()).toBe("failed");
    const [first, ...none] = await letters(t);
    expect(none).toEqual([]);
    expect(first).toMatchObject({ event_id: poison.id, retry_count: 0, resolved_at: null });
    expect(first?.error).toContain("WORKER_INVALID_PAYLOAD");
    expect(alertLines(t)).toHaveLength(1);
    expect(alertLines(t)[0]).toMatchObject({ level: 50, eventId: poison.id, attempts: 1 });
    expect(alertLines(t)[0]?.repeat).toBeUndefined();
    await t.smtp.waitForMails(1);
    // One failure, one stack, naming its attempt; the message appears in it once.
    expect(job.stacktrace).toHaveLength(1);
    const [stack1] = job.stacktrace ?? [];
    expect(stack1).toMatch(/^--- attempt 1, \S+Z: dead letter ---\nPermanentEventError: /);
    expect(occurrences(stack1 ?? "", "WORKER_INVALID_PAYLOAD")).toBe(1);

    const again = await retryAsTheDashboardDoes(t, job);

    expect(await again.getState()).toBe("failed");
    expect(again.attemptsMade).toBe(2);
    expect(again.failedReason).toContain("WORKER_INVALID_PAYLOAD");
    const [second, ...stillNone] = await letters(t);
    expect(stillNone).toEqual([]);
    expect(second).toMatchObject({
      id: first?.id,
      event_id: poison.id,
      job_id: job.id,
      retry_count: 1,
      resolved_at: null,
      error: first?.error,
    });
    expect(second?.failed_at.getTime()).toBeGreaterThan(first?.failed_at.getTime() ?? Infinity);
    const event = await t.db
      .selectFrom("webhook_events")
      .select(["status", "attempts"])
      .where("event_id", "=", poison.id)
      .executeTakeFirstOrThrow();
    expect(event).toEqual({ status: "dead", attempts: 2 });

    // The repeat says so, and does not page: same error, the first alert stands.
    const lines = alertLines(t);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({
      level: 40,
      alert: "dead_letter",
      repeat: true,
      retried: 1,
      errorChanged: false,
      paged: false,
      eventId: poison.id,
      attempts: 2,
    });
    expect(lines.filter((line) => line.level === 50)).toHaveLength(1);
    expect(t.smtp.mails).toHaveLength(1);

    // One stack per failure: two attempts, told apart by their headings, not one stack twice.
    expect(again.stacktrace).toHaveLength(2);
    const [kept, stack2] = again.stacktrace ?? [];
    expect(kept).toBe(stack1);
    expect(stack2).toMatch(
      /^--- attempt 2, \S+Z: dead letter again \(retried 1 time\(s\) after going dead\) ---\nPermanentEventError: /,
    );
    expect(occurrences(stack2 ?? "", "WORKER_INVALID_PAYLOAD")).toBe(1);
  });

  it("data edited to another bad value, then Retry → letter takes the new error, retry count 1; the repeat is paged (error level, a mail saying it failed again)", async () => {
    const t = await harness({ failures: 0, runs: 0 });
    const poison = sampleEvent("experience.started", { startedAt: "yesterday" });
    const job = await t.deliver(poison);
    await t.smtp.waitForMails(1);
    const firstError = job.failedReason; // job.retry() clears it on the object
    expect(firstError).toContain("data.startedAt: Invalid ISO datetime");

    // The operator edits the data (as the dashboard's job-data edit does), but not well enough.
    await job.updateData({ ...poison, data: { ...poison.data, startedAt: 42 } });
    const again = await retryAsTheDashboardDoes(t, job);

    expect(await again.getState()).toBe("failed");
    const [letter] = await letters(t);
    expect(letter).toMatchObject({ retry_count: 1, resolved_at: null });
    expect(letter?.error).toContain("WORKER_INVALID_PAYLOAD");
    expect(letter?.error).toBe(again.failedReason);
    expect(letter?.error).not.toBe(firstError);
    const repeat = alertLines(t)[1];
    expect(repeat).toMatchObject({
      level: 50,
      repeat: true,
      retried: 1,
      errorChanged: true,
      paged: true,
      previousError: firstError,
      error: again.failedReason,
    });
    const mails = await t.smtp.waitForMails(2);
    expect(mails[1]?.subject).toBe(
      `[fanfare-relay] dead letter again, new error: experience.started ${poison.id}`,
    );
  });

  it("a job that ran out of its 6 attempts, retried → fails at once (attempt 7) → retry count 1, 1 repeat line, 7 stacks with 7 headings", async () => {
    const t = await harness({ failures: Infinity, runs: 0 });
    const event = sampleEvent("experience.started");
    const job = await t.deliver(event);
    expect(job.attemptsMade).toBe(6);
    expect((job.stacktrace ?? []).map((entry) => entry.split("\n")[0])).toEqual([
      ...Array.from({ length: 5 }, (_, index): unknown =>
        expect.stringMatching(
          new RegExp(`^--- attempt ${String(index + 1)}, \\S+Z: will be retried ---$`),
        ),
      ),
      expect.stringMatching(/^--- attempt 6, \S+Z: dead letter ---$/),
    ]);

    const again = await retryAsTheDashboardDoes(t, job);

    expect(again.attemptsMade).toBe(7);
    const [letter, ...none] = await letters(t);
    expect(none).toEqual([]);
    expect(letter).toMatchObject({
      retry_count: 1,
      resolved_at: null,
      error: "downstream unavailable",
    });
    expect(alertLines(t).map((line) => [line.level, line.repeat])).toEqual([
      [50, undefined],
      [40, true],
    ]);
    expect(again.stacktrace).toHaveLength(7);
    expect(again.stacktrace?.[6]).toMatch(/^--- attempt 7, \S+Z: dead letter again \(retried 1 /);
    await t.smtp.waitForMails(1);
    expect(t.smtp.mails).toHaveLength(1);
  });

  it("a scheduled re-drive then an operator's Retry, each failing again → retry count 1 then 2 (the re-drive's is not counted twice), every repeat marked", async () => {
    const t = await harness({ failures: Infinity, runs: 0 }, { redriveAfterMs: 0 });
    const event = sampleEvent("experience.started");
    const job = await t.deliver(event);

    const failedAgain = once(t.worker.worker, "failed");
    expect(await t.worker.redriveDeadLetters()).toBe(1);
    await failedAgain;
    expect((await letters(t))[0]?.retry_count).toBe(1);

    await retryAsTheDashboardDoes(t, job);
    const [letter] = await letters(t);
    expect(letter?.retry_count).toBe(2);
    expect(alertLines(t).map((line) => [line.repeat, line.retried])).toEqual([
      [undefined, undefined],
      [true, 1],
      [true, 2],
    ]);
  });
});
