import { familyQueueNames } from "@fanfare-relay/events/families";
import { waitUntil } from "@fanfare-relay/testing/spawn-app";
import {
  createWorkerHarness,
  sampleEvent,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import { queueHandlers } from "@fanfare-relay/worker-queue/handlers";
import type { Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  breakQueueParticipants,
  fixQueueParticipants,
  participant,
  TRIGGER_MESSAGE,
} from "./failing-trigger.ts";
import { createDashboard, VIEWER, type DashboardHarness } from "./helpers.ts";

const queueName = familyQueueNames.queue;

let worker: WorkerHarness;
let d: DashboardHarness;
let admin: Record<string, string>;
let viewer: Record<string, string>;

beforeAll(async () => {
  worker = await createWorkerHarness("queue", queueHandlers);
  d = await createDashboard({ prefix: worker.prefix, db: worker.db });
  admin = await d.login();
  viewer = await d.login(VIEWER);
});
afterAll(async () => {
  await d.close();
  await worker.close();
});

/** Delivers queue.consumer_entered events while their table refuses writes: each ends failed. */
async function failedJobs(consumerIds: string[]): Promise<Job[]> {
  await breakQueueParticipants(worker.db);
  try {
    const jobs = await Promise.all(
      consumerIds.map((consumerId) =>
        worker.deliver(sampleEvent("queue.consumer_entered", { consumerId })),
      ),
    );
    for (const job of jobs) expect(await job.getState()).toBe("failed");
    return jobs;
  } finally {
    await fixQueueParticipants(worker.db);
  }
}

const completed = (job: Job) => waitUntil(async () => (await job.getState()) === "completed");

const retryJob = (job: Job, cookies: Record<string, string>) =>
  d.app.inject({
    method: "PUT",
    url: `/api/queues/${queueName}/${encodeURIComponent(job.id ?? "")}/retry`,
    cookies,
  });

describe("failed jobs in the board's API", () => {
  it("show the error, the stack, the attempts and the payload", async () => {
    const [job] = await failedJobs(["con_api_show"]);
    if (job === undefined) throw new Error("no job");
    const response = await d.app.inject({
      url: `/api/queues/${queueName}/${job.id ?? ""}`,
      cookies: admin,
    });
    expect(response.statusCode).toBe(200);
    const { job: shown } = response.json<{ job: Record<string, unknown> }>();
    expect(shown).toMatchObject({
      id: job.id,
      name: "queue.consumer_entered",
      failedReason: TRIGGER_MESSAGE,
      attempts: 6,
      isFailed: true,
      data: { id: (job.data as { id: string }).id, data: { consumerId: "con_api_show" } },
    });
    // One stack per attempt.
    expect(shown.stacktrace).toEqual(
      Array.from({ length: 6 }, (): unknown =>
        expect.stringContaining(`error: ${TRIGGER_MESSAGE}\n    at `),
      ),
    );
    // Leave no failed job behind for the tests that count them.
    expect((await retryJob(job, admin)).statusCode).toBe(204);
    await completed(job);
  });
});

describe("retrying", () => {
  it("one failed job runs it again in its worker, which applies it and resolves its dead letter", async () => {
    const [job] = await failedJobs(["con_retry_one"]);
    if (job === undefined) throw new Error("no job");
    const letter = await worker.db
      .selectFrom("webhook_dead_letters")
      .selectAll()
      .where("job_id", "=", job.id ?? "")
      .executeTakeFirstOrThrow();
    expect(letter.resolved_at).toBeNull();

    const response = await retryJob(job, admin);
    expect(response.statusCode).toBe(204);
    await completed(job);
    expect(await participant(worker.db, "con_retry_one")).toBeDefined();
    const resolved = await worker.db
      .selectFrom("webhook_dead_letters")
      .select("resolved_at")
      .where("id", "=", letter.id)
      .executeTakeFirstOrThrow();
    expect(resolved.resolved_at).toBeInstanceOf(Date);
  });

  it("all failed jobs of a queue runs each of them again", async () => {
    const jobs = await failedJobs(["con_retry_all_1", "con_retry_all_2", "con_retry_all_3"]);
    const response = await d.app.inject({
      method: "PUT",
      url: `/api/queues/${queueName}/retry/failed`,
      cookies: admin,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ retried: 3, skipped: 0 });
    await Promise.all(jobs.map(completed));
    for (const consumerId of ["con_retry_all_1", "con_retry_all_2", "con_retry_all_3"]) {
      expect(await participant(worker.db, consumerId)).toBeDefined();
    }
  });

  it("a completed job is refused, one by one and all at once, and does not run again", async () => {
    const job = await worker.deliver(
      sampleEvent("queue.consumer_entered", { consumerId: "con_done" }),
    );
    expect(await job.getState()).toBe("completed");
    const before = await worker.producer.queues.get(queueName)?.getJob(job.id ?? "");

    const one = await retryJob(job, admin);
    expect(one.statusCode).toBe(403);
    expect(one.json()).toEqual({
      error: expect.stringContaining("completed"),
      code: "DASHBOARD_COMPLETED_RETRY_DISABLED",
    });
    const all = await d.app.inject({
      method: "PUT",
      url: `/api/queues/${queueName}/retry/completed`,
      cookies: admin,
    });
    expect(all.statusCode).toBe(403);
    expect(all.json()).toMatchObject({ code: "DASHBOARD_COMPLETED_RETRY_DISABLED" });

    const after = await worker.producer.queues.get(queueName)?.getJob(job.id ?? "");
    expect(await after?.getState()).toBe("completed");
    expect(after?.finishedOn).toBe(before?.finishedOn);
    expect(after?.attemptsMade).toBe(before?.attemptsMade);
  });

  it("adding a job, emptying or obliterating a queue is refused even to admins; nothing is lost", async () => {
    const job = await worker.deliver(
      sampleEvent("queue.consumer_entered", { consumerId: "con_kept" }),
    );
    for (const [method, action] of [
      ["POST", "add"],
      ["PUT", "empty"],
      ["PUT", "obliterate"],
    ] as const) {
      const response = await d.app.inject({
        method,
        url: `/api/queues/${queueName}/${action}`,
        cookies: admin,
        payload: { name: "queue.consumer_entered", data: {} },
      });
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ code: "DASHBOARD_ACTION_DISABLED" });
    }
    const kept = await worker.producer.queues.get(queueName)?.getJob(job.id ?? "");
    expect(await kept?.getState()).toBe("completed");
  });

  it("an unknown job or queue is Bull Board's 404", async () => {
    const unknownJob = await d.app.inject({
      method: "PUT",
      url: `/api/queues/${queueName}/evt_missing/retry`,
      cookies: admin,
    });
    expect(unknownJob.statusCode).toBe(404);
    const unknownQueue = await d.app.inject({
      method: "PUT",
      url: "/api/queues/no-such-queue/evt_missing/retry",
      cookies: admin,
    });
    expect(unknownQueue.statusCode).toBe(404);
  });
});

describe("a viewer", () => {
  it("reads the board, with every action switched off in the UI", async () => {
    const response = await d.app.inject({ url: "/api/queues", cookies: viewer });
    expect(response.statusCode).toBe(200);
    const { queues } = response.json<{ queues: Record<string, unknown>[] }>();
    expect(queues).toHaveLength(6);
    for (const queue of queues) {
      expect(queue).toMatchObject({
        readOnlyMode: true,
        allowRetries: false,
        allowCompletedRetries: false,
      });
    }
  });

  it("gets 403 DASHBOARD_READ_ONLY for a retry, and the job stays failed", async () => {
    const [job] = await failedJobs(["con_viewer"]);
    if (job === undefined) throw new Error("no job");
    const one = await retryJob(job, viewer);
    expect(one.statusCode).toBe(403);
    expect(one.json()).toEqual({ error: expect.any(String), code: "DASHBOARD_READ_ONLY" });
    for (const [method, url] of [
      ["PUT", `/api/queues/${queueName}/retry/failed`],
      ["PUT", `/api/queues/${queueName}/pause`],
      ["PUT", `/api/queues/${queueName}/clean/failed`],
      ["PUT", "/%61pi/queues/pause"],
      ["POST", `/api/queues/${queueName}/add`],
      ["PATCH", `/api/queues/${queueName}/${job.id ?? ""}/update-data`],
    ] as const) {
      const response = await d.app.inject({ method, url, cookies: viewer, payload: {} });
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ code: "DASHBOARD_READ_ONLY" });
    }
    expect(await job.getState()).toBe("failed");
    expect(await participant(worker.db, "con_viewer")).toBeUndefined();
  });
});
