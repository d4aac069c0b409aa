import { appRoutes } from "@bull-board/api/dist/routes.js";
import { familyQueueNames } from "@fanfare-relay/events/families";
import { createLogger, serializeError } from "@fanfare-relay/logging/logger";
import { jobIdForEvent } from "@fanfare-relay/queues/job-id";
import { testRedisUrl } from "@fanfare-relay/testing/redis";
import { waitUntil } from "@fanfare-relay/testing/spawn-app";
import {
  createWorkerHarness,
  sampleEvent,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import { queueHandlers } from "@fanfare-relay/worker-queue/handlers";
import { recordDeadLetter } from "@fanfare-relay/worker/dead-letters";
import type { Job, Queue } from "bullmq";
import { Redis } from "ioredis";
import { sql, type KyselyPlugin, type QueryId } from "kysely";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALLOWED_ACTIONS } from "../src/board/action-policy.ts";
import { breakQueueParticipants, fixQueueParticipants, participant } from "./failing-trigger.ts";
import { ADMIN, createDashboard, type DashboardHarness } from "./helpers.ts";

/** Has a worker in this file: its jobs complete or fail. */
const queueName = familyQueueNames.queue;
/** Has no worker in this file: its jobs stay waiting or delayed. */
const idleQueueName = familyQueueNames.draw;

/** Bull Board's write routes as `{ method: "PUT", route: "/api/…" }`. */
const writeRoutes = appRoutes.api.flatMap((definition) =>
  [definition.method]
    .flat()
    .filter((method) => method !== "get")
    .flatMap((method) =>
      [definition.route].flat().map((route) => ({ method: method.toUpperCase(), route })),
    ),
);

const lines: Record<string, unknown>[] = [];
let worker: WorkerHarness;
let d: DashboardHarness;
let admin: Record<string, string>;

beforeAll(async () => {
  worker = await createWorkerHarness("queue", queueHandlers);
  const logger = createLogger(
    "dashboard",
    "info",
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString().split("\n")) {
          if (line.trim() !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
        }
        callback();
      },
    }),
  );
  d = await createDashboard({ prefix: worker.prefix, db: worker.db, logger });
  admin = await d.login();
});
afterAll(async () => {
  await d.close();
  await worker.close();
});

const queueOf = (name: string): Queue => {
  const queues: ReadonlyMap<string, Queue> = worker.producer.queues;
  const queue = queues.get(name);
  if (queue === undefined) throw new Error(`no queue ${name}`);
  return queue;
};

/** Delivers queue.consumer_entered events while their table refuses writes: each ends failed. */
async function failedJob(consumerId: string): Promise<Job> {
  await breakQueueParticipants(worker.db);
  try {
    const job = await worker.deliver(sampleEvent("queue.consumer_entered", { consumerId }));
    expect(await job.getState()).toBe("failed");
    return job;
  } finally {
    await fixQueueParticipants(worker.db);
  }
}

/** A job in the queue nobody consumes here: `delay` > 0 makes it delayed (its retry due at once). */
async function idleJob(delay = 0): Promise<Job> {
  const event = sampleEvent("draw.entry_created");
  return queueOf(idleQueueName).add(event.type, event, {
    jobId: jobIdForEvent(event.id),
    ...(delay > 0 ? { delay } : {}),
  });
}

const put = (url: string) => d.app.inject({ method: "PUT", url, cookies: admin });

const editData = (job: Job, jobData: unknown, queue: string = queueName) =>
  d.app.inject({
    method: "PATCH",
    url: `/api/queues/${queue}/${job.id ?? ""}/update-data`,
    cookies: admin,
    payload: { jobData },
  });

const stateOf = async (queue: string, jobId: string | undefined) =>
  (await queueOf(queue).getJob(jobId ?? ""))?.getState();

describe("fault: Bull Board's write routes deleting or forging acknowledged events", () => {
  it("Clean all on Delayed with 1 retry due, Clean all on Waiting with 1 waiting event → 403 DASHBOARD_ACTION_DISABLED, both jobs stay", async () => {
    const delayed = await idleJob(1);
    const waiting = await idleJob();
    expect(await delayed.getState()).toBe("delayed");
    for (const status of [
      "delayed",
      "wait",
      "waiting",
      "failed",
      "active",
      "paused",
      "prioritized",
    ]) {
      const response = await put(`/api/queues/${idleQueueName}/clean/${status}`);
      expect(response.statusCode, status).toBe(403);
      expect(response.json()).toEqual({
        error: expect.any(String),
        code: "DASHBOARD_ACTION_DISABLED",
      });
    }
    expect(await stateOf(idleQueueName, delayed.id)).toBe("delayed");
    expect(await stateOf(idleQueueName, waiting.id)).toBe("waiting");
  });

  it("removing 1 failed, 1 waiting and 1 delayed job one by one → 403 each, all three stay", async () => {
    const failed = await failedJob("con_clean_one");
    const waiting = await idleJob();
    const delayed = await idleJob(60_000);
    for (const [queue, job, state] of [
      [queueName, failed, "failed"],
      [idleQueueName, waiting, "waiting"],
      [idleQueueName, delayed, "delayed"],
    ] as const) {
      const response = await put(`/api/queues/${queue}/${job.id ?? ""}/clean`);
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ code: "DASHBOARD_ACTION_DISABLED" });
      expect(await stateOf(queue, job.id)).toBe(state);
    }
    await fixQueueParticipants(worker.db);
    expect((await put(`/api/queues/${queueName}/${failed.id ?? ""}/retry`)).statusCode).toBe(204);
    await waitUntil(async () => (await stateOf(queueName, failed.id)) === "completed");
  });

  it("every Bull Board write route not on the allow-list (12 in 9.10.1), and one Bull Board might add → 403 DASHBOARD_ACTION_DISABLED", async () => {
    const waiting = await idleJob();
    const refused = writeRoutes.filter(
      ({ method, route }) => !ALLOWED_ACTIONS.has(`${method} ${route}`),
    );
    expect(refused.length).toBeGreaterThanOrEqual(12);
    for (const { method, route } of refused) {
      const url = route
        .replace(":queueName", idleQueueName)
        .replace(":jobId", waiting.id ?? "")
        .replace(":schedulerId", "sched_1");
      const response = await d.app.inject({
        method: method as "PUT",
        url,
        cookies: admin,
        payload: { name: "queue.consumer_entered", data: {}, concurrency: 1, delay: 1 },
      });
      expect(response.statusCode, `${method} ${route}`).toBe(403);
      expect(response.json()).toMatchObject({ code: "DASHBOARD_ACTION_DISABLED" });
    }
    expect(await stateOf(idleQueueName, waiting.id)).toBe("waiting");
    // Every allowed action names a real route: a typo would silently refuse an action.
    for (const action of ALLOWED_ACTIONS.keys()) {
      expect(
        writeRoutes.some(({ method, route }) => `${method} ${route}` === action),
        action,
      ).toBe(true);
    }
  });

  it("a write route registered after the policy (as a later Bull Board would add) → 403 DASHBOARD_ACTION_DISABLED", async () => {
    const extra = await createDashboard({ prefix: worker.prefix, db: worker.db, ready: false });
    try {
      let ran = false;
      extra.app.put("/api/queues/:queueName/:jobId/discard", () => {
        ran = true;
        return Promise.resolve({});
      });
      await extra.app.ready();
      const response = await extra.app.inject({
        method: "PUT",
        url: `/api/queues/${queueName}/evt_1/discard`,
        cookies: await extra.login(),
      });
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ code: "DASHBOARD_ACTION_DISABLED" });
      expect(ran).toBe(false);
    } finally {
      await extra.close();
    }
  });
});

describe("guarantee: an operator's edit of a job's data is possible only on a failed job, and audited", () => {
  it("editing 1 waiting and 1 delayed job → 403 DASHBOARD_ACTION_DISABLED, data unchanged, nothing recorded", async () => {
    const waiting = await idleJob();
    const delayed = await idleJob(60_000);
    for (const job of [waiting, delayed]) {
      const forged = { ...(job.data as object), data: { consumerId: "con_forged" } };
      const response = await editData(job, forged, idleQueueName);
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ code: "DASHBOARD_ACTION_DISABLED" });
      const after = await queueOf(idleQueueName).getJob(job.id ?? "");
      expect(after?.data).toEqual(job.data);
    }
    const edits = await worker.db
      .selectFrom("job_data_edits")
      .selectAll()
      .where("job_id", "in", [waiting.id ?? "", delayed.id ?? ""])
      .execute();
    expect(edits).toEqual([]);
  });

  it("editing 1 failed job's consumer id, then Retry → applied with the edit; job_data_edits has who/when/diff, webhook_events edited_at/by, one log line with paths only", async () => {
    const job = await failedJob("con_edit_before");
    const envelope = job.data as { id: string; data: Record<string, unknown> };
    const edited = {
      ...envelope,
      data: { ...envelope.data, consumerId: "con_edit_after", note: "someone@example.test" },
    };
    const response = await editData(job, edited);
    expect(response.statusCode).toBe(200);

    const [edit, ...more] = await worker.db
      .selectFrom("job_data_edits")
      .selectAll()
      .where("event_id", "=", envelope.id)
      .execute();
    expect(more).toEqual([]);
    expect(edit).toMatchObject({
      queue_name: queueName,
      job_id: job.id,
      edited_by: ADMIN.username,
      changes: [
        { path: "data.consumerId", before: "con_edit_before", after: "con_edit_after" },
        { path: "data.note", after: "someone@example.test" },
      ],
    });
    expect(edit?.edited_at).toBeInstanceOf(Date);
    const event = await worker.db
      .selectFrom("webhook_events")
      .select(["edited_at", "edited_by", "status"])
      .where("event_id", "=", envelope.id)
      .executeTakeFirstOrThrow();
    expect(event).toMatchObject({ edited_by: ADMIN.username, status: "dead" });
    expect(event.edited_at?.getTime()).toBe(edit?.edited_at.getTime());

    const logged = lines.filter((line) => line.msg === "job data edited");
    expect(logged).toEqual([
      expect.objectContaining({
        user: ADMIN.username,
        eventId: envelope.id,
        changedPaths: ["data.consumerId", "data.note"],
      }),
    ]);
    const all = JSON.stringify(lines);
    expect(all).not.toContain("someone@example.test");
    expect(all).not.toContain("con_edit_after");

    expect((await put(`/api/queues/${queueName}/${job.id ?? ""}/retry`)).statusCode).toBe(204);
    await waitUntil(async () => (await stateOf(queueName, job.id)) === "completed");
    expect(await participant(worker.db, "con_edit_after")).toBeDefined();
    expect(await participant(worker.db, "con_edit_before")).toBeUndefined();
  });

  it("an edit of a failed job that changes the event's id or type, or has no jobData → 400, data unchanged", async () => {
    const job = await failedJob("con_edit_identity");
    const envelope = job.data as Record<string, unknown>;
    for (const jobData of [
      { ...envelope, id: "evt_someone_else" },
      { ...envelope, type: "queue.consumer_left" },
      "not an object",
    ]) {
      const response = await editData(job, jobData);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: "DASHBOARD_BAD_REQUEST" });
    }
    expect((await queueOf(queueName).getJob(job.id ?? ""))?.data).toEqual(envelope);
    await put(`/api/queues/${queueName}/${job.id ?? ""}/retry`);
    await waitUntil(async () => (await stateOf(queueName, job.id)) === "completed");
  });

  it("an edit without a database configured → 403 DASHBOARD_ACTION_DISABLED, data unchanged", async () => {
    const job = await failedJob("con_edit_nodb");
    const bare = await createDashboard({ prefix: worker.prefix });
    try {
      const response = await bare.app.inject({
        method: "PATCH",
        url: `/api/queues/${queueName}/${job.id ?? ""}/update-data`,
        cookies: await bare.login(),
        payload: { jobData: { ...(job.data as object), note: "x" } },
      });
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ code: "DASHBOARD_ACTION_DISABLED" });
    } finally {
      await bare.close();
    }
    expect((await queueOf(queueName).getJob(job.id ?? ""))?.data).toEqual(job.data);
    await put(`/api/queues/${queueName}/${job.id ?? ""}/retry`);
    await waitUntil(async () => (await stateOf(queueName, job.id)) === "completed");
  });
});

/**
 * Runs `between` once job_data_edits' row is inserted: between the edit's record and the write of
 * the job's new data, as a removal by someone else or a Redis failure could fall.
 */
function afterEditRecorded(between: () => Promise<void>): KyselyPlugin {
  const inserts = new Set<QueryId>();
  return {
    transformQuery({ node, queryId }) {
      if (
        node.kind === "InsertQueryNode" &&
        node.into?.table.identifier.name === "job_data_edits"
      ) {
        inserts.add(queryId);
      }
      return node;
    },
    async transformResult({ result, queryId }) {
      if (inserts.delete(queryId)) await between();
      return result;
    },
  };
}

const editsOf = (eventId: string) =>
  worker.db.selectFrom("job_data_edits").selectAll().where("event_id", "=", eventId).execute();

const eventRow = (eventId: string) =>
  worker.db
    .selectFrom("webhook_events")
    .select(["status", "edited_at", "edited_by", "type", "family"])
    .where("event_id", "=", eventId)
    .executeTakeFirst();

describe("guarantee: no edit of a job's data without its record, and no record of an edit not made", () => {
  it("the failed job removed between the record and the write → 404 DASHBOARD_NOT_FOUND; no job_data_edits row, the event row not marked edited", async () => {
    const job = await failedJob("con_edit_removed");
    const envelope = job.data as { id: string; data: Record<string, unknown> };
    const hooked = await createDashboard({
      prefix: worker.prefix,
      db: worker.db.withPlugin(
        afterEditRecorded(async () => {
          await queueOf(queueName).remove(job.id ?? "");
        }),
      ),
    });
    try {
      const response = await hooked.app.inject({
        method: "PATCH",
        url: `/api/queues/${queueName}/${job.id ?? ""}/update-data`,
        cookies: await hooked.login(),
        payload: { jobData: { ...envelope, data: { consumerId: "con_edit_removed_after" } } },
      });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ code: "DASHBOARD_NOT_FOUND" });
    } finally {
      await hooked.close();
    }
    expect(await queueOf(queueName).getJob(job.id ?? "")).toBeUndefined();
    expect(await editsOf(envelope.id)).toEqual([]);
    expect(await eventRow(envelope.id)).toMatchObject({
      status: "dead",
      edited_at: null,
      edited_by: null,
    });
  });

  it("Redis unreachable at the write, after an earlier edit of the same job → 503 DASHBOARD_UNAVAILABLE; data as after the earlier edit, only its record left, the event row back to it", async () => {
    const job = await failedJob("con_edit_unreachable");
    const envelope = job.data as { id: string; data: Record<string, unknown> };
    const first = { ...envelope, data: { ...envelope.data, note: "first" } };
    expect((await editData(job, first)).statusCode).toBe(200);
    const [earlier] = await editsOf(envelope.id);

    const hooked = await createDashboard({
      prefix: worker.prefix,
      db: worker.db.withPlugin(
        afterEditRecorded(async () => {
          // Redis drops the dashboard's connection, which then stays down for longer than the
          // request: the write finds no connection.
          const closed = new Promise((resolve) => hooked.redis.once("close", resolve));
          await killer.client("KILL", "ID", String(connectionId));
          await closed;
        }),
      ),
    });
    if (!(hooked.redis instanceof Redis)) throw new Error("expected a single-node connection");
    hooked.redis.options.retryStrategy = () => 10_000;
    const connectionId = await hooked.redis.client("ID");
    const killer = new Redis(testRedisUrl);
    let response;
    try {
      response = await hooked.app.inject({
        method: "PATCH",
        url: `/api/queues/${queueName}/${job.id ?? ""}/update-data`,
        cookies: await hooked.login(),
        payload: { jobData: { ...first, data: { consumerId: "con_edit_unreachable_after" } } },
      });
    } finally {
      await hooked.close();
      hooked.redis.disconnect();
      await killer.quit();
    }
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ code: "DASHBOARD_UNAVAILABLE" });
    expect((await queueOf(queueName).getJob(job.id ?? ""))?.data).toEqual(first);
    expect(await editsOf(envelope.id)).toEqual([earlier]);
    const event = await eventRow(envelope.id);
    expect(event?.edited_by).toBe(ADMIN.username);
    expect(event?.edited_at?.getTime()).toBe(earlier?.edited_at.getTime());
  });

  it("an edit of a failed job whose event has no webhook_events row (its failure was never recorded) → a minimal failed row with edited_at/by; the dead letter written later keeps it, and the Dead letters page says who edited and when, escaped", async () => {
    const job = await failedJob("con_edit_norow");
    const envelope = job.data as { id: string; type: string; data: Record<string, unknown> };
    // As when the database was down at each failure: no event row, no dead letter.
    await worker.db
      .deleteFrom("webhook_dead_letters")
      .where("event_id", "=", envelope.id)
      .execute();
    await worker.db.deleteFrom("webhook_events").where("event_id", "=", envelope.id).execute();

    const edited = { ...envelope, data: { ...envelope.data, consumerId: "con_edit_norow_after" } };
    expect((await editData(job, edited)).statusCode).toBe(200);
    const [edit] = await editsOf(envelope.id);
    const inserted = await eventRow(envelope.id);
    expect(inserted).toMatchObject({
      status: "failed",
      type: envelope.type,
      family: "queue",
      edited_by: ADMIN.username,
    });
    expect(inserted?.edited_at?.getTime()).toBe(edit?.edited_at.getTime());

    // The worker's reconciliation then writes the missing letter.
    await recordDeadLetter(worker.db, {
      eventId: envelope.id,
      type: envelope.type,
      queueName,
      jobId: job.id ?? "",
      payload: edited,
      error: "queue_participants is read-only during maintenance",
    });
    const dead = await eventRow(envelope.id);
    expect(dead).toMatchObject({ status: "dead", edited_by: ADMIN.username });
    expect(dead?.edited_at?.getTime()).toBe(edit?.edited_at.getTime());

    const at = edit?.edited_at ?? new Date(0);
    const shown = `${at.toISOString().replace("T", " ").slice(0, 19)} UTC`;
    const html = (await d.app.inject({ url: "/dead-letters", cookies: admin })).body;
    expect(html).toContain(
      `edited by ${ADMIN.username} at <time datetime="${at.toISOString()}">${shown}</time>`,
    );

    await worker.db
      .updateTable("webhook_events")
      .set({ edited_by: `<img src=x onerror="alert(1)">&co` })
      .where("event_id", "=", envelope.id)
      .execute();
    const escaped = (await d.app.inject({ url: "/dead-letters", cookies: admin })).body;
    expect(escaped).toContain(
      `edited by &lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;co at <time datetime="${at.toISOString()}">`,
    );
    expect(escaped).not.toContain("<img src=x");
  });
});

describe("fault: an edit of a failed job's data that PostgreSQL or the workers could not store", () => {
  /** The body as sent on the wire, `\u0000` and `\ud800` escapes and all. */
  const rawEdit = (job: Job, rawJobData: string) =>
    d.app.inject({
      method: "PATCH",
      url: `/api/queues/${queueName}/${job.id ?? ""}/update-data`,
      cookies: admin,
      headers: { "content-type": "application/json" },
      payload: `{"jobData":${rawJobData}}`,
    });

  it("the reviewer's two edits (a NUL after an email address, a lone surrogate) and a NUL in a key, 40 levels of nesting, 1e999 → 400 DASHBOARD_INVALID_JOB_DATA naming the field's path; data unchanged, no job_data_edits row, the event row not marked edited, nothing of the payload logged", async () => {
    const job = await failedJob("con_edit_unstorable");
    const envelope = job.data as { id: string; type: string };
    const identity = `"id":${JSON.stringify(envelope.id)},"type":${JSON.stringify(envelope.type)}`;
    const cases: [string, string][] = [
      [
        `{${identity},"z":"mail victim.person@example.org\\u0000"}`,
        "jobData.z must not contain NUL",
      ],
      [`{${identity},"z":"surrogate-marker\\ud800"}`, "jobData.z must not contain NUL"],
      [
        `{${identity},"data":{"key-marker\\u0000":"victim.person@example.org"}}`,
        "jobData.data.key-marker\u0000 key must not contain NUL",
      ],
      [
        `{${identity},"data":${"[".repeat(40)}"depth-marker"${"]".repeat(40)}}`,
        "is nested deeper than 32 levels",
      ],
      [`{${identity},"data":{"amount":1e999}}`, "jobData.data.amount must be a finite number"],
    ];
    const linesBefore = lines.length;
    for (const [rawJobData, problem] of cases) {
      const response = await rawEdit(job, rawJobData);
      expect(response.statusCode).toBe(400);
      const body = response.json<{ error: string; code: string }>();
      expect(body.code).toBe("DASHBOARD_INVALID_JOB_DATA");
      expect(body.error).toContain(problem);
      expect(body.error).not.toContain("victim");
      expect(body.error).not.toMatch(/surrogate-marker|depth-marker/);
    }
    expect((await queueOf(queueName).getJob(job.id ?? ""))?.data).toEqual(job.data);
    expect(await editsOf(envelope.id)).toEqual([]);
    expect(await eventRow(envelope.id)).toMatchObject({ edited_at: null, edited_by: null });

    const logged = JSON.stringify(lines.slice(linesBefore));
    expect(lines.slice(linesBefore)).toContainEqual(
      expect.objectContaining({ msg: "dashboard action", status: 400 }),
    );
    expect(logged).not.toMatch(/victim|surrogate-marker|key-marker|depth-marker|JSON data/);
    expect(lines.slice(linesBefore).filter((line) => line.level === 50)).toEqual([]);
  });

  it("PostgreSQL's own errors quoting an email address in `where` (bad jsonb) and `detail` (a duplicate key), logged as err → neither field nor the address in the line; code, routine and constraint kept", async () => {
    const errors: unknown[] = [];
    await sql`SELECT ${'{"after":"mail victim.person@example.org\\u0000"}'}::jsonb`
      .execute(worker.db)
      .catch((error: unknown) => errors.push(error));
    await worker.db
      .transaction()
      .execute(async (tx) => {
        await sql`CREATE TEMP TABLE recipients (email text CONSTRAINT recipients_pk PRIMARY KEY)
          ON COMMIT DROP`.execute(tx);
        await sql`INSERT INTO recipients VALUES ('victim.person@example.org'),
          ('victim.person@example.org')`.execute(tx);
      })
      .catch((error: unknown) => errors.push(error));
    const [badJson, duplicate] = errors as Record<string, unknown>[];
    // What PostgreSQL puts on them, which the logger must not pass on.
    expect(badJson?.where).toContain("victim.person@example.org");
    expect(duplicate?.detail).toContain("victim.person@example.org");

    const output: string[] = [];
    const logger = createLogger(
      "dashboard",
      "info",
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          output.push(chunk.toString());
          callback();
        },
      }),
    );
    logger.error({ err: badJson }, "request failed");
    logger.error({ err: duplicate }, "request failed");
    const text = output.join("");
    expect(text.trim().split("\n")).toHaveLength(2);
    expect(text).toContain('"code":"23505"');
    expect(text).not.toMatch(/victim|JSON data|"where"|"detail"/);
    expect(serializeError(duplicate)).toMatchObject({
      code: "23505",
      routine: expect.any(String) as unknown,
      constraint: "recipients_pk",
    });
    expect(serializeError(badJson)).toMatchObject({ code: "22P05" });
  });
});

describe("guarantee: only completed jobs whose event PostgreSQL records as completed can be cleaned", () => {
  it("Clean all on Completed with 2 completed jobs, 1 of them not recorded completed → that one kept, the other removed", async () => {
    const recorded = await worker.deliver(
      sampleEvent("queue.consumer_entered", { consumerId: "con_clean_ok" }),
    );
    const unrecorded = await worker.deliver(
      sampleEvent("queue.consumer_entered", { consumerId: "con_clean_odd" }),
    );
    expect(await recorded.getState()).toBe("completed");
    expect(await unrecorded.getState()).toBe("completed");
    await worker.db
      .updateTable("webhook_events")
      .set({ status: "failed" })
      .where("event_id", "=", (unrecorded.data as { id: string }).id)
      .execute();

    const response = await put(`/api/queues/${queueName}/clean/completed`);
    expect(response.statusCode).toBe(200);
    expect(response.json<{ removed: number; kept: number }>().kept).toBeGreaterThanOrEqual(1);
    expect(response.json<{ removed: number; kept: number }>().removed).toBeGreaterThanOrEqual(1);
    expect(await queueOf(queueName).getJob(recorded.id ?? "")).toBeUndefined();
    expect(await stateOf(queueName, unrecorded.id)).toBe("completed");

    // One by one: the same rule.
    const one = await put(`/api/queues/${queueName}/${unrecorded.id ?? ""}/clean`);
    expect(one.statusCode).toBe(403);
    expect(one.json()).toMatchObject({ code: "DASHBOARD_ACTION_DISABLED" });
    await worker.db
      .updateTable("webhook_events")
      .set({ status: "completed" })
      .where("event_id", "=", (unrecorded.data as { id: string }).id)
      .execute();
    expect((await put(`/api/queues/${queueName}/${unrecorded.id ?? ""}/clean`)).statusCode).toBe(
      204,
    );
    expect(await queueOf(queueName).getJob(unrecorded.id ?? "")).toBeUndefined();
  });

  it("Clean all on Completed without a database configured → 403 DASHBOARD_ACTION_DISABLED, the job stays", async () => {
    const job = await worker.deliver(
      sampleEvent("queue.consumer_entered", { consumerId: "con_clean_nodb" }),
    );
    const bare = await createDashboard({ prefix: worker.prefix });
    try {
      const response = await bare.app.inject({
        method: "PUT",
        url: `/api/queues/${queueName}/clean/completed`,
        cookies: await bare.login(),
      });
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ code: "DASHBOARD_ACTION_DISABLED" });
    } finally {
      await bare.close();
    }
    expect(await stateOf(queueName, job.id)).toBe("completed");
  });
});

describe("guarantee: the actions that lose nothing stay open to admins", () => {
  it("promoting 1 delayed job, pausing and resuming a queue → 2xx; the promoted job waits", async () => {
    const delayed = await idleJob(60_000);
    expect((await put(`/api/queues/${idleQueueName}/${delayed.id ?? ""}/promote`)).statusCode).toBe(
      204,
    );
    expect(await stateOf(idleQueueName, delayed.id)).toBe("waiting");
    const all = await idleJob(60_000);
    expect((await put(`/api/queues/${idleQueueName}/promote`)).statusCode).toBe(200);
    expect(await stateOf(idleQueueName, all.id)).toBe("waiting");
    for (const action of ["pause", "resume"]) {
      expect((await put(`/api/queues/${idleQueueName}/${action}`)).statusCode).toBe(200);
    }
  });
});
