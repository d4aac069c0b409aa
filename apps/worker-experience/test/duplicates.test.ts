import { parseFamilyEvent, processEvent } from "@fanfare-relay/worker/process-event";
import { createWorkerHarness, type WorkerHarness } from "@fanfare-relay/worker/testing/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experienceHandlers } from "../src/handlers.ts";
import { analyticsOf, experienceEvent, readExperience } from "./experience-helpers.ts";

let h: WorkerHarness;
beforeAll(async () => {
  h = await createWorkerHarness("experience", experienceHandlers);
});
afterAll(async () => {
  await h.close();
});

const options = () => ({
  db: h.db,
  family: "experience" as const,
  handlers: experienceHandlers,
  messageIdDomain: "shop.test",
  shopUrl: "https://shop.test",
});

// A resume is the event whose effect is not idempotent by itself (its duration is added), so a
// second application would show.
describe("guarantee: duplicate experience events apply once", () => {
  it("is applied once when 20 deliveries race", async () => {
    const envelope = experienceEvent("experience.resumed", "exp_dup1", { pausedDuration: 300 });

    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        processEvent(options(), parseFamilyEvent("experience", envelope)),
      ),
    );

    expect(outcomes.filter((outcome) => outcome === "applied")).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === "duplicate")).toHaveLength(19);
    expect(await readExperience(h.db, "exp_dup1")).toMatchObject({
      status: "live",
      paused_duration_seconds: 300,
    });
    expect(await analyticsOf(h.db, envelope.id)).toHaveLength(1);
    expect(await h.db.selectFrom("email_outbox").selectAll().execute()).toHaveLength(0);
  });

  it("is one job, applied once, when enqueued 20 times at once", async () => {
    const envelope = experienceEvent("experience.resumed", "exp_dup2", { pausedDuration: 120 });

    const results = await Promise.all(
      Array.from({ length: 20 }, () => h.producer.enqueue(envelope)),
    );
    const jobIds = new Set(results.map((result) => result.jobId));
    expect(jobIds.size).toBe(1);
    const [jobId] = jobIds;
    const job = await h.settled(jobId ?? "");
    expect(await job.getState()).toBe("completed");

    expect(await readExperience(h.db, "exp_dup2")).toMatchObject({
      paused_duration_seconds: 120,
    });
    expect(await analyticsOf(h.db, envelope.id)).toHaveLength(1);
    expect(h.smtp.mails).toHaveLength(0);
  });

  it("changes nothing when redelivered after it was applied", async () => {
    const envelope = experienceEvent("experience.resumed", "exp_dup3", { pausedDuration: 60 });
    expect(await processEvent(options(), parseFamilyEvent("experience", envelope))).toBe("applied");
    const before = await readExperience(h.db, "exp_dup3");

    expect(await processEvent(options(), parseFamilyEvent("experience", envelope))).toBe(
      "duplicate",
    );
    expect(await readExperience(h.db, "exp_dup3")).toEqual(before);
  });
});
