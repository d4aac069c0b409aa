import { createWorkerHarness, type WorkerHarness } from "@fanfare-relay/worker/testing/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experienceHandlers } from "../src/handlers.ts";
import { analyticsOf, experienceEvent, readExperience } from "./experience-helpers.ts";

let h: WorkerHarness;
beforeAll(async () => {
  h = await createWorkerHarness("experience", experienceHandlers);
});
afterAll(async () => {
  // No event of this family announces anything to a consumer.
  expect(h.smtp.mails).toHaveLength(0);
  expect(await h.db.selectFrom("email_outbox").selectAll().execute()).toHaveLength(0);
  await h.close();
});

const startedAt = "2025-11-26T09:40:10.000Z";
const pausedAt = "2025-11-26T09:56:40.000Z";
const resumedAt = "2025-11-26T10:01:40.000Z";
const endedAt = "2025-11-26T11:03:20.000Z";

async function deliverOk(...args: Parameters<typeof experienceEvent>) {
  const event = experienceEvent(...args);
  const job = await h.deliver(event);
  expect(await job.getState()).toBe("completed");
  return event;
}

describe("experience.started", () => {
  it("creates the live experience with its type, name and start", async () => {
    const event = await deliverOk("experience.started", "exp_e1", {
      type: "queue",
      name: "Spring Drop",
      startedAt,
    });

    expect(await readExperience(h.db, "exp_e1")).toEqual({
      id: "exp_e1",
      status: "live",
      type: "queue",
      name: "Spring Drop",
      pause_reason: null,
      paused_duration_seconds: 0,
      total_participants: null,
      started_at: new Date(startedAt),
      paused_at: null,
      resumed_at: null,
      ended_at: null,
      updated_at: expect.any(Date),
    });
    const analytics = await analyticsOf(h.db, event.id);
    expect(analytics).toMatchObject([
      {
        name: "experience_started",
        properties: { experienceId: "exp_e1", type: "queue", name: "Spring Drop" },
      },
    ]);
  });

  it("keeps the earliest start, and its name, when a second start arrives late", async () => {
    await deliverOk("experience.started", "exp_e2", {
      name: "Second",
      startedAt: "2025-11-26T10:00:00.000Z",
    });
    await deliverOk("experience.started", "exp_e2", { name: "First", startedAt });

    expect(await readExperience(h.db, "exp_e2")).toMatchObject({
      status: "live",
      name: "First",
      started_at: new Date(startedAt),
    });
  });

  it("does not erase a known name with a start that has none", async () => {
    await deliverOk("experience.started", "exp_e3", { name: "Named", startedAt });
    await deliverOk("experience.started", "exp_e3", { name: undefined, startedAt });

    expect(await readExperience(h.db, "exp_e3")).toMatchObject({ name: "Named" });
  });
});

describe("experience.paused", () => {
  it("pauses a live experience with the reason", async () => {
    await deliverOk("experience.started", "exp_p1", { startedAt });
    const event = await deliverOk("experience.paused", "exp_p1", {
      reason: "inventory_recount",
      pausedAt,
    });

    expect(await readExperience(h.db, "exp_p1")).toMatchObject({
      status: "paused",
      pause_reason: "inventory_recount",
      paused_at: new Date(pausedAt),
      started_at: new Date(startedAt),
      resumed_at: null,
    });
    expect(await analyticsOf(h.db, event.id)).toMatchObject([
      {
        name: "experience_paused",
        properties: { experienceId: "exp_p1", reason: "inventory_recount" },
      },
    ]);
  });

  it("is paused even when the pause is the first event seen", async () => {
    await deliverOk("experience.paused", "exp_p2", { reason: "maintenance", pausedAt });

    expect(await readExperience(h.db, "exp_p2")).toMatchObject({
      status: "paused",
      type: null,
      started_at: null,
      pause_reason: "maintenance",
    });
  });

  it("keeps the latest pause's reason when an older pause arrives late", async () => {
    await deliverOk("experience.paused", "exp_p3", {
      reason: "second",
      pausedAt: "2025-11-26T10:30:00.000Z",
    });
    await deliverOk("experience.paused", "exp_p3", { reason: "first", pausedAt });

    expect(await readExperience(h.db, "exp_p3")).toMatchObject({
      pause_reason: "second",
      paused_at: new Date("2025-11-26T10:30:00.000Z"),
    });
  });
});

describe("experience.resumed", () => {
  it("goes live again and adds the paused duration", async () => {
    await deliverOk("experience.started", "exp_r1", { startedAt });
    await deliverOk("experience.paused", "exp_r1", { pausedAt });
    const event = await deliverOk("experience.resumed", "exp_r1", {
      pausedDuration: 300,
      resumedAt,
    });

    expect(await readExperience(h.db, "exp_r1")).toMatchObject({
      status: "live",
      paused_at: new Date(pausedAt),
      resumed_at: new Date(resumedAt),
      paused_duration_seconds: 300,
    });
    expect(await analyticsOf(h.db, event.id)).toMatchObject([
      { name: "experience_resumed", properties: { experienceId: "exp_r1", pausedDuration: 300 } },
    ]);
  });

  it("stays paused when the resume is older than the pause (a later pause)", async () => {
    await deliverOk("experience.paused", "exp_r2", { pausedAt: "2025-11-26T10:30:00.000Z" });
    await deliverOk("experience.resumed", "exp_r2", { pausedDuration: 60, resumedAt });

    expect(await readExperience(h.db, "exp_r2")).toMatchObject({
      status: "paused",
      paused_duration_seconds: 60,
    });
  });

  it("adds nothing when the duration is unknown", async () => {
    await deliverOk("experience.resumed", "exp_r3", { pausedDuration: undefined, resumedAt });

    expect(await readExperience(h.db, "exp_r3")).toMatchObject({
      status: "live",
      paused_duration_seconds: 0,
      resumed_at: new Date(resumedAt),
    });
  });
});

describe("experience.ended", () => {
  it("ends the experience with its participant count", async () => {
    await deliverOk("experience.started", "exp_x1", { startedAt });
    const event = await deliverOk("experience.ended", "exp_x1", {
      totalParticipants: 1280,
      endedAt,
    });

    expect(await readExperience(h.db, "exp_x1")).toMatchObject({
      status: "ended",
      ended_at: new Date(endedAt),
      total_participants: 1280,
      started_at: new Date(startedAt),
    });
    expect(await analyticsOf(h.db, event.id)).toMatchObject([
      {
        name: "experience_ended",
        properties: { experienceId: "exp_x1", totalParticipants: 1280 },
      },
    ]);
  });

  it("stays ended when a pause arrives after the end", async () => {
    await deliverOk("experience.ended", "exp_x2", { endedAt });
    await deliverOk("experience.paused", "exp_x2", { pausedAt });

    expect(await readExperience(h.db, "exp_x2")).toMatchObject({
      status: "ended",
      total_participants: 1280,
      paused_at: new Date(pausedAt),
    });
  });

  it("keeps the first end and the highest count when the end is reported twice", async () => {
    await deliverOk("experience.ended", "exp_x3", {
      totalParticipants: 1300,
      endedAt: "2025-11-26T11:05:00.000Z",
    });
    await deliverOk("experience.ended", "exp_x3", { totalParticipants: 1280, endedAt });

    expect(await readExperience(h.db, "exp_x3")).toMatchObject({
      status: "ended",
      ended_at: new Date(endedAt),
      total_participants: 1300,
    });
  });
});
