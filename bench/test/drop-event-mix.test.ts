import { families } from "@fanfare-relay/events/families";
import { describe, expect, it } from "vitest";
import { dropEventMix } from "../src/drop-event-mix.ts";

describe("dropEventMix", () => {
  it("makes exactly the events asked for, each id once, every family present", () => {
    const mix = dropEventMix(5_000);
    expect(mix.events).toHaveLength(5_000);
    expect(new Set(mix.events.map((event) => event.id)).size).toBe(5_000);
    for (const family of families) expect(mix.perFamily[family]).toBeGreaterThan(0);
  });

  it("delivers each lifecycle in order: an admission before its end, a selection before its claims", () => {
    const { events } = dropEventMix(5_000);
    const firstIndex = (type: string, key: string, value: unknown) =>
      events.findIndex((event) => event.type === type && event.data[key] === value);
    for (const [index, event] of events.entries()) {
      if (event.type === "queue.admission_completed" || event.type === "queue.admission_expired") {
        const admitted = firstIndex("queue.consumer_admitted", "consumerId", event.data.consumerId);
        expect(admitted).toBeGreaterThanOrEqual(0);
        expect(admitted).toBeLessThan(index);
      }
      if (event.type === "draw.prize_claimed" || event.type === "draw.prize_expired") {
        const selected = firstIndex("draw.winners_selected", "drawId", event.data.drawId);
        expect(selected).toBeGreaterThanOrEqual(0);
        expect(selected).toBeLessThan(index);
      }
    }
    expect(events[0]?.type).toBe("experience.started");
    expect(events.at(-1)?.type).toBe("experience.ended");
  });
});
