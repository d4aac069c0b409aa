import type { EventType } from "@fanfare-relay/events/catalogue";
import type { Envelope } from "@fanfare-relay/events/envelope";
import { parseFamilyEvent, processEvent } from "@fanfare-relay/worker/process-event";
import { createWorkerHarness, type WorkerHarness } from "@fanfare-relay/worker/testing/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experienceHandlers } from "../src/handlers.ts";
import { permutations } from "@fanfare-relay/testing/permutations";
import { experienceEvent, experienceFacts } from "./experience-helpers.ts";

let h: WorkerHarness;
beforeAll(async () => {
  h = await createWorkerHarness("experience", experienceHandlers);
});
afterAll(async () => {
  // No order may produce a mail: this family announces nothing to consumers.
  expect(h.smtp.mails).toHaveLength(0);
  expect(await h.db.selectFrom("email_outbox").selectAll().execute()).toHaveLength(0);
  await h.close();
});

interface Step {
  type: EventType & `experience.${string}`;
  data: Record<string, unknown>;
}

const started: Step = {
  type: "experience.started",
  data: { type: "queue", name: "Spring Drop", startedAt: "2025-11-26T09:40:10.000Z" },
};
const paused: Step = {
  type: "experience.paused",
  data: { reason: "inventory_recount", pausedAt: "2025-11-26T09:56:40.000Z" },
};
const resumed: Step = {
  type: "experience.resumed",
  data: { pausedDuration: 300, resumedAt: "2025-11-26T10:01:40.000Z" },
};
const ended: Step = {
  type: "experience.ended",
  data: { totalParticipants: 1280, endedAt: "2025-11-26T11:03:20.000Z" },
};
const pausedAgain: Step = {
  type: "experience.paused",
  data: { reason: "payment_outage", pausedAt: "2025-11-26T10:20:00.000Z" },
};
const resumedAgain: Step = {
  type: "experience.resumed",
  data: { pausedDuration: 120, resumedAt: "2025-11-26T10:22:00.000Z" },
};

let nextExperience = 0;

/**
 * Applies each permutation of the steps, in order, to an experience of its own; returns their
 * final rows. Permutations run side by side (distinct experiences cannot interfere).
 */
async function finalRowsOfEveryOrder(
  steps: readonly Step[],
  apply: (event: Envelope) => Promise<unknown>,
) {
  const orders = permutations(steps);
  const rows: Awaited<ReturnType<typeof experienceFacts>>[] = [];
  let next = 0;
  const lane = async () => {
    for (let index = next++; index < orders.length; index = next++) {
      nextExperience += 1;
      const experienceId = `exp_order_${String(nextExperience)}`;
      for (const step of orders[index] ?? []) {
        await apply(experienceEvent(step.type, experienceId, step.data));
      }
      rows[index] = await experienceFacts(h.db, experienceId);
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  return rows;
}

const viaQueue = async (event: Envelope) => {
  const job = await h.deliver(event);
  expect(await job.getState()).toBe("completed");
};

// The big sets skip Redis: the queue adds nothing to the merge being tested.
const direct = (event: Envelope) =>
  processEvent(
    {
      db: h.db,
      family: "experience",
      handlers: experienceHandlers,
      messageIdDomain: "shop.test",
      shopUrl: "https://shop.test",
    },
    parseFamilyEvent("experience", event),
  );

describe("guarantee: an experience's lifecycle ends the same in every order", () => {
  it("started, paused, resumed, ended: all 24 orders end with the same ended row", async () => {
    const rows = await finalRowsOfEveryOrder([started, paused, resumed, ended], viaQueue);

    expect(rows).toHaveLength(24);
    expect(rows[0]).toEqual({
      status: "ended",
      type: "queue",
      name: "Spring Drop",
      pause_reason: "inventory_recount",
      paused_duration_seconds: 300,
      total_participants: 1280,
      started_at: new Date("2025-11-26T09:40:10.000Z"),
      paused_at: new Date("2025-11-26T09:56:40.000Z"),
      resumed_at: new Date("2025-11-26T10:01:40.000Z"),
      ended_at: new Date("2025-11-26T11:03:20.000Z"),
    });
    for (const row of rows) expect(row).toEqual(rows[0]);
  });

  it("started, paused, resumed: all 6 orders end live with the same row", async () => {
    const rows = await finalRowsOfEveryOrder([started, paused, resumed], viaQueue);

    expect(rows).toHaveLength(6);
    expect(rows[0]).toMatchObject({
      status: "live",
      pause_reason: "inventory_recount",
      paused_duration_seconds: 300,
      ended_at: null,
    });
    for (const row of rows) expect(row).toEqual(rows[0]);
  });

  it("started, paused: both orders end paused with the same row", async () => {
    const rows = await finalRowsOfEveryOrder([started, paused], viaQueue);

    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      status: "paused",
      pause_reason: "inventory_recount",
      resumed_at: null,
    });
    expect(rows[1]).toEqual(rows[0]);
  });

  it("two pause/resume cycles: all 120 orders sum the durations and keep the latest reason", async () => {
    const rows = await finalRowsOfEveryOrder(
      [started, paused, resumed, pausedAgain, resumedAgain],
      direct,
    );

    expect(rows).toHaveLength(120);
    expect(rows[0]).toMatchObject({
      status: "live",
      pause_reason: "payment_outage",
      paused_duration_seconds: 420,
      paused_at: new Date("2025-11-26T10:20:00.000Z"),
      resumed_at: new Date("2025-11-26T10:22:00.000Z"),
    });
    for (const row of rows) expect(row).toEqual(rows[0]);
  });

  it("a second pause not yet resumed: all 24 orders end paused for the latest reason", async () => {
    const rows = await finalRowsOfEveryOrder([started, paused, resumed, pausedAgain], direct);

    expect(rows).toHaveLength(24);
    expect(rows[0]).toMatchObject({
      status: "paused",
      pause_reason: "payment_outage",
      paused_duration_seconds: 300,
    });
    for (const row of rows) expect(row).toEqual(rows[0]);
  });

  it("a latest pause without a reason clears the older reason in both orders", async () => {
    const silentPause: Step = {
      type: "experience.paused",
      data: { reason: undefined, pausedAt: "2025-11-26T10:20:00.000Z" },
    };
    const rows = await finalRowsOfEveryOrder([paused, silentPause], viaQueue);

    expect(rows[0]).toMatchObject({ status: "paused", pause_reason: null });
    expect(rows[1]).toEqual(rows[0]);
  });

  it("two starts that disagree: both orders keep the earliest start's type and name", async () => {
    const restarted: Step = {
      type: "experience.started",
      data: { type: "draw", name: "Renamed", startedAt: "2025-11-26T10:00:00.000Z" },
    };
    const rows = await finalRowsOfEveryOrder([started, restarted], viaQueue);

    expect(rows[0]).toMatchObject({
      type: "queue",
      name: "Spring Drop",
      started_at: new Date("2025-11-26T09:40:10.000Z"),
    });
    expect(rows[1]).toEqual(rows[0]);
  });
});
