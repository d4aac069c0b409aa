import { familyQueueNames } from "@fanfare-relay/events/families";
import { jobIdForEvent } from "@fanfare-relay/queues/job-id";
import { defaultJobOptions } from "@fanfare-relay/queues/job-options";
import { randomBytes, randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createWorkerHarness, sampleEvent, type WorkerHarness } from "../src/testing/harness.ts";
import { storableKey } from "../src/storable.ts";
import { stubHandlers } from "./stub-handlers.ts";

let h: WorkerHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

interface Case {
  title: string;
  /** Job name, payload and the event id the job stands for. */
  job: () => { name: string; data: unknown; eventId: string };
  /** What the stored dead letter's payload must look like. */
  payload: "as sent" | "as text";
}

const longId = () => `evt_${randomBytes(6_000).toString("base64url")}`;

const cases: Case[] = [
  {
    title: "`created: 10000000000000` (past JavaScript's Date range)",
    job: () => {
      const event = sampleEvent("experience.started", {}, { created: 10_000_000_000_000 });
      return { name: event.type, data: event, eventId: event.id };
    },
    payload: "as sent",
  },
  {
    title: "a NUL (\\u0000) in a data string",
    job: () => {
      const event = sampleEvent("experience.started", { experienceId: "exp_\u0000nul" });
      return { name: event.type, data: event, eventId: event.id };
    },
    payload: "as text",
  },
  {
    title: "an 8,000-character event id and type (past any index entry)",
    job: () => {
      const event = sampleEvent("experience.started");
      const id = longId();
      const type = `experience.${randomBytes(6_000).toString("base64url")}`;
      return { name: type, data: { ...event, id, type }, eventId: id };
    },
    payload: "as sent",
  },
  {
    title: "a payload that is a string, not an object",
    job: () => {
      const eventId = `evt_${randomUUID()}`;
      return { name: "experience.started", data: "not an envelope", eventId };
    },
    payload: "as sent",
  },
];

describe("fault: a job whose values PostgreSQL refuses to store", () => {
  for (const { title, job: makeJob, payload } of cases) {
    it(`1 job with ${title} → fails once (unrecoverable), 1 webhook_events row \`dead\`, 1 dead letter, 1 alert`, async () => {
      const control = { failures: 0, runs: 0 };
      const t = await createWorkerHarness("experience", stubHandlers(control), {
        opsAlertEmail: "ops@shop.test",
      });
      h = t;
      const queue = t.producer.queues.get(familyQueueNames.experience);
      if (queue === undefined) throw new Error("no experience queue");
      const { name, data, eventId } = makeJob();
      const jobId = jobIdForEvent(eventId);
      await queue.add(name, data, { ...defaultJobOptions(), jobId });

      const job = await t.settled(jobId);

      expect(await job.getState()).toBe("failed");
      expect(job.attemptsMade).toBe(1);
      const key = storableKey(eventId);
      expect(key.length).toBeLessThanOrEqual(500);
      const rows = await t.db.selectFrom("webhook_events").selectAll().execute();
      expect(rows).toEqual([
        expect.objectContaining({ event_id: key, family: "experience", status: "dead" }),
      ]);
      const letters = await t.db.selectFrom("webhook_dead_letters").selectAll().execute();
      expect(letters).toEqual([
        expect.objectContaining({ event_id: key, job_id: jobId, resolved_at: null }),
      ]);
      if (payload === "as sent") {
        expect(letters[0]?.payload).toEqual(data);
      } else {
        // jsonb refuses \u0000: the payload is kept as its JSON text, with a note.
        const stored = letters[0]?.payload as { unstorablePayload: string; json: string };
        expect(stored.unstorablePayload).toContain("\\u0000");
        expect(JSON.parse(stored.json)).toEqual(data);
      }
      expect(t.logs.filter((line) => line.alert === "dead_letter")).toEqual([
        expect.objectContaining({ jobId, queueName: "fanfare-experience", attempts: 1 }),
      ]);
      const [alert] = await t.smtp.waitForMails(1);
      expect(alert?.to).toEqual(["ops@shop.test"]);
      expect(control.runs).toBe(0);
    });
  }
});
