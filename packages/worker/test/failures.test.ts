import type { Job } from "bullmq";
import { once } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { parseFamilyEvent, processEvent } from "../src/process-event.ts";
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
  h = await createWorkerHarness("experience", stubHandlers(control), overrides);
  return h;
}

const started = (experienceId = `exp_${Math.random().toString(36).slice(2)}`) =>
  sampleEvent("experience.started", { experienceId });

async function deadLetters(harness: WorkerHarness) {
  return harness.db.selectFrom("webhook_dead_letters").selectAll().execute();
}

describe("fault: a poison event (a payload that fails its schema, or that keeps failing)", () => {
  it("1 event whose data fails its schema → fails once (unrecoverable), 1 dead letter, row `dead`, 1 alert line and 1 ops mail", async () => {
    const control = { failures: 0, runs: 0 };
    const t = await harness(control, { opsAlertEmail: "ops@shop.test" });
    const poison = sampleEvent("experience.started", { startedAt: "yesterday" });

    const job = await t.deliver(poison);

    expect(await job.getState()).toBe("failed");
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toContain("WORKER_INVALID_PAYLOAD");
    expect(control.runs).toBe(0);
    const letters = await deadLetters(t);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      event_id: poison.id,
      type: "experience.started",
      queue_name: "fanfare-experience",
      job_id: job.id,
      retry_count: 0,
      resolved_at: null,
    });
    expect(letters[0]?.error).toContain("data.startedAt");
    expect(letters[0]?.payload).toEqual(poison);
    const event = await t.db
      .selectFrom("webhook_events")
      .selectAll()
      .where("event_id", "=", poison.id)
      .executeTakeFirstOrThrow();
    expect(event).toMatchObject({ status: "dead", attempts: 1 });

    expect(t.logs.filter((line) => line.alert === "dead_letter")).toHaveLength(1);
    const [alert] = await t.smtp.waitForMails(1);
    expect(alert?.to).toEqual(["ops@shop.test"]);
    expect(alert?.subject).toContain(poison.id);
  });

  it("1 event whose handler always throws → 6 attempts on the sender's schedule, then 1 dead letter, row `dead` with 6 attempts, 1 alert, nothing committed", async () => {
    const control = { failures: Infinity, runs: 0 };
    const t = await harness(control);
    const event = started();

    const job = await t.deliver(event);

    expect(await job.getState()).toBe("failed");
    expect(job.attemptsMade).toBe(6);
    expect(await deadLetters(t)).toHaveLength(1);
    const row = await t.db
      .selectFrom("webhook_events")
      .selectAll()
      .where("event_id", "=", event.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      status: "dead",
      attempts: 6,
      last_error: "downstream unavailable",
    });
    // Nothing of the failed attempts was committed.
    expect(await t.db.selectFrom("experiences").selectAll().execute()).toEqual([]);
    expect(t.logs.filter((line) => line.alert === "dead_letter")).toHaveLength(1);
  });
});

describe("guarantee: a type failing above the threshold raises one failure-rate alert", () => {
  it("5 failures of one type with a threshold of 3 in 60 s → exactly 1 `failure_rate` alert line, counting 4", async () => {
    const control = { failures: Infinity, runs: 0 };
    const t = await harness(control, {
      failureAlertThreshold: 3,
      failureAlertWindowMs: 60_000,
      retryTimeScale: 1, // one attempt each within the test: no retries run
    });
    const jobs = [started(), started(), started(), started(), started()];
    let failed = 0;
    const allFailed = new Promise<void>((resolve) => {
      t.worker.worker.on("failed", () => {
        failed += 1;
        if (failed === jobs.length) resolve();
      });
    });
    for (const event of jobs) await t.producer.enqueue(event);
    await allFailed;
    await expect.poll(() => t.logs.filter((l) => l.alert === "failure_rate").length).toBe(1);
    const alert = t.logs.find((line) => line.alert === "failure_rate");
    expect(alert).toMatchObject({ type: "experience.started", failures: 4, level: 50 });
  });
});

describe("guarantee: dead letters are retried and resolve when the event finally completes", () => {
  it("1 dead event retried from the dashboard once its cause is fixed → job completed, letter resolved, row `completed` after 7 attempts, handler ran once", async () => {
    const control = { failures: Infinity, runs: 0 };
    const t = await harness(control);
    const event = started();
    const job = await t.deliver(event);
    expect(await job.getState()).toBe("failed");

    // The cause is fixed; an operator presses Retry in the dashboard.
    control.failures = 0;
    const settled = t.settled(job.id ?? "");
    await job.retry("failed");
    expect(await (await settled).getState()).toBe("completed");

    const [letter] = await deadLetters(t);
    expect(letter?.resolved_at).toBeInstanceOf(Date);
    const row = await t.db
      .selectFrom("webhook_events")
      .select(["status", "attempts"])
      .where("event_id", "=", event.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: "completed", attempts: 7 });
    expect(control.runs).toBe(1);
  });

  it("1 dead letter that keeps failing, max 2 re-drives → re-driven twice, then left for an operator, still 1 letter", async () => {
    const control = { failures: Infinity, runs: 0 };
    const t = await harness(control, { redriveAfterMs: 0, maxRedrives: 2 });
    const event = started();
    const job = await t.deliver(event);
    expect(await job.getState()).toBe("failed");

    for (const round of [1, 2]) {
      const failedAgain = once(t.worker.worker, "failed");
      expect(await t.worker.redriveDeadLetters()).toBe(1);
      await failedAgain;
      await expect.poll(async () => (await deadLetters(t))[0]?.retry_count).toBe(round);
    }
    // Two re-drives spent: the letter stays for an operator.
    expect(await t.worker.redriveDeadLetters()).toBe(0);
    expect(await deadLetters(t)).toHaveLength(1);
  });

  it("1 dead letter whose job was removed from Redis → re-drive adds a new job with its id, which completes and resolves the letter", async () => {
    const control = { failures: Infinity, runs: 0 };
    const t = await harness(control, { redriveAfterMs: 0 });
    const event = started();
    const job = await t.deliver(event);
    await job.remove();
    control.failures = 0;

    const settled = t.settled(job.id ?? "");
    expect(await t.worker.redriveDeadLetters()).toBe(1);
    expect(await (await settled).getState()).toBe("completed");
    await expect.poll(async () => (await deadLetters(t))[0]?.resolved_at).toBeInstanceOf(Date);
    expect(control.runs).toBe(1);
  });
});

describe("guarantee: exactly one effect per event", () => {
  it("20 concurrent applications of one event, then 20 deliveries through the queue → 1 applied, 19 duplicates, 1 analytics row, 1 email", async () => {
    const control: StubControl = { failures: 0, runs: 0, mailTo: "fan@example.com" };
    const t = await harness(control);
    const envelope = started();
    const event = parseFamilyEvent("experience", envelope);
    const options = {
      db: t.db,
      family: "experience" as const,
      handlers: stubHandlers(control),
      messageIdDomain: "shop.test",
      shopUrl: "https://shop.test",
    };
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => processEvent(options, event)),
    );
    expect(outcomes.filter((o) => o === "applied")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "duplicate")).toHaveLength(19);
    expect(await t.db.selectFrom("analytics_events").selectAll().execute()).toHaveLength(1);

    // Delivered 20 times more through the queue (the sender retrying): still one email.
    await Promise.all(Array.from({ length: 20 }, () => t.producer.enqueue(envelope)));
    const job = await t.settled(envelope.id);
    expect(job.returnvalue).toEqual({ outcome: "duplicate", emailsSent: 1 });
    await t.smtp.waitForMails(1);
    const outbox = await t.db.selectFrom("email_outbox").selectAll().execute();
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({ status: "sent", attempts: 1 });
    expect(t.smtp.mails).toHaveLength(1);
    expect(t.smtp.mails[0]?.messageId).toBe(outbox[0]?.message_id);
  });
});

describe("fault: the SMTP server is down", () => {
  it("1 event with a mail while SMTP refuses connections, then SMTP back → the retry only sends (handler ran once), exactly 1 email, row `sent`", async () => {
    const control: StubControl = { failures: 0, runs: 0, mailTo: "fan@example.com" };
    const t = await harness(control);
    await t.smtp.stop();
    const event = started();

    const firstFailure = once(t.worker.worker, "failed");
    const result = await t.producer.enqueue(event);
    const [, error] = (await firstFailure) as [Job, Error];
    expect(error.name).toBe("EmailDeliveryError");
    await t.smtp.start();

    const job = await t.settled(result.jobId);
    expect(await job.getState()).toBe("completed");
    expect(job.returnvalue).toEqual({ outcome: "duplicate", emailsSent: 1 });
    expect(control.runs).toBe(1);
    await t.smtp.waitForMails(1);
    expect(t.smtp.mails).toHaveLength(1);
    const [row] = await t.db.selectFrom("email_outbox").selectAll().execute();
    expect(row?.status).toBe("sent");
    expect(row?.attempts).toBeGreaterThanOrEqual(2);
  });
});
