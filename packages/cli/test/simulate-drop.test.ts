import { isEventType, parseEventData } from "@fanfare-relay/events/catalogue";
import { parseEnvelope, type Envelope } from "@fanfare-relay/events/envelope";
import { describe, expect, it } from "vitest";
import { planDeliveries } from "../src/simulate/delivery-plan.ts";
import { generateDrop, type Drop } from "../src/simulate/drop.ts";
import type { Landed } from "../src/simulate/landed.ts";
import { createRandom } from "../src/simulate/random.ts";
import type { DeliveryReport } from "../src/simulate/sender.ts";
import { judge } from "../src/simulate/verdict.ts";

const now = new Date("2026-03-01T12:00:00.000Z");
const drop = generateDrop({ consumers: 20, seed: 7, runId: "t1", now });
const ofType = (type: string) => drop.events.filter((event) => event.type === type);
const data = (event: Envelope) => event.data;

describe("generateDrop", () => {
  it("makes valid events with unique ids under the run's prefixes", () => {
    for (const event of drop.events) {
      expect(parseEnvelope(event).success).toBe(true);
      expect(isEventType(event.type)).toBe(true);
      if (isEventType(event.type)) {
        expect(parseEventData({ ...event, type: event.type }).success, event.type).toBe(true);
      }
      expect(event.id.startsWith(drop.eventIdPrefix)).toBe(true);
    }
    expect(new Set(drop.events.map((event) => event.id)).size).toBe(drop.events.length);
  });

  it("is one coherent drop whose expectations match its events", () => {
    const { expected } = drop;
    expect(ofType("consumer.authenticated")).toHaveLength(20);
    expect(ofType("queue.consumer_entered")).toHaveLength(20);
    expect(ofType("queue.consumer_admitted")).toHaveLength(expected.admissions);
    expect(ofType("queue.admission_completed")).toHaveLength(expected.admissionsCompleted);
    expect(ofType("queue.admission_expired")).toHaveLength(expected.admissionsExpired);
    expect(ofType("draw.entry_created")).toHaveLength(expected.drawEntries);
    expect(ofType("draw.prize_claimed")).toHaveLength(expected.prizesClaimed);
    expect(ofType("draw.prize_expired")).toHaveLength(expected.prizesExpired);
    expect(ofType("auction.bid_placed")).toHaveLength(expected.auctionBids);
    expect(ofType("auction.outbid")).toHaveLength(expected.auctionBids - 1);
    for (const type of [
      "experience.started",
      "experience.paused",
      "experience.resumed",
      "experience.ended",
      "draw.winners_selected",
      "auction.auction_ended",
      "auction.winner_notified",
    ]) {
      expect(ofType(type), type).toHaveLength(1);
    }
    expect(expected.admissions).toBeGreaterThan(0);
    expect(expected.admissions).toBeLessThan(20);
    expect(expected.events).toBe(drop.events.length);
    expect(ofType("consumer.authenticated").every((e) => data(e).email !== undefined)).toBe(true);

    // Each admitted consumer's admission ends exactly once, after it began.
    const timeOf = (event: Envelope | undefined) => event?.created ?? Number.NaN;
    for (const admitted of ofType("queue.consumer_admitted")) {
      const consumerId = data(admitted).consumerId;
      const endings = drop.events.filter(
        (e) =>
          (e.type === "queue.admission_completed" || e.type === "queue.admission_expired") &&
          data(e).consumerId === consumerId,
      );
      expect(endings).toHaveLength(1);
      expect(timeOf(endings[0])).toBeGreaterThan(timeOf(admitted));
      const entered = ofType("queue.consumer_entered").find(
        (e) => data(e).consumerId === consumerId,
      );
      expect(timeOf(admitted)).toBeGreaterThan(timeOf(entered));
    }
    // Deadlines are ahead of now, so their mails are not stale.
    for (const admitted of ofType("queue.consumer_admitted")) {
      expect(Date.parse(String(data(admitted).expiresAt))).toBeGreaterThan(now.getTime());
    }
    // In the order the facts happened.
    const times = drop.events.map((event) => event.created);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it("is the same drop for the same seed and run id", () => {
    expect(generateDrop({ consumers: 20, seed: 7, runId: "t1", now })).toEqual(drop);
    expect(generateDrop({ consumers: 20, seed: 8, runId: "t1", now }).events).not.toEqual(
      drop.events,
    );
  });
});

describe("planDeliveries", () => {
  it("delivers every event, the chosen fraction twice, some before their predecessors", () => {
    const plan = planDeliveries(drop.events, {
      duplicates: 0.2,
      window: 10,
      random: createRandom(3),
    });
    const copies = new Map<string, number>();
    for (const event of plan) copies.set(event.id, (copies.get(event.id) ?? 0) + 1);
    expect(copies.size).toBe(drop.events.length);
    expect([...copies.values()].filter((n) => n === 2)).toHaveLength(
      Math.round(drop.events.length * 0.2),
    );
    expect([...copies.values()].every((n) => n === 1 || n === 2)).toBe(true);
    const position = new Map(drop.events.map((event, index) => [event.id, index]));
    const indices = plan.map((event) => position.get(event.id) ?? 0);
    expect(indices.some((index, i) => i > 0 && index < (indices[i - 1] ?? 0))).toBe(true);
    expect(
      planDeliveries(drop.events, { duplicates: 0, window: 1, random: createRandom(3) }),
    ).toEqual(drop.events);
  });
});

function landedAsExpected(d: Drop): Landed {
  const { expected } = d;
  return {
    eventStatus: new Map(d.events.map((event) => [event.id, "completed"])),
    consumers: expected.consumers,
    experiences: 1,
    queueParticipants: expected.queueParticipants,
    admissions: { completed: expected.admissionsCompleted, expired: expected.admissionsExpired },
    drawEntries: expected.drawEntries,
    drawWinners: { claimed: expected.prizesClaimed, expired: expected.prizesExpired },
    auctions: 1,
    auctionBids: expected.auctionBids,
    analyticsEvents: expected.analyticsEvents,
    emails: [{ template: "admission-granted", status: "sent", count: 1 }],
    repeatedMails: [],
    deadLetters: [],
  };
}

const deliveredAll = (d: Drop): DeliveryReport<Envelope>[] =>
  d.events.map((event) => ({
    event,
    attempts: [{ at: 0, status: 200, body: "{}", ok: true }],
    delivered: true,
    duplicate: false,
  }));

describe("judge", () => {
  it("passes a drop that landed exactly", () => {
    const verdict = judge(drop, deliveredAll(drop), landedAsExpected(drop));
    expect(verdict).toMatchObject({ ok: true, lost: [], undelivered: [] });
    expect(verdict.summary).toBe("OK: nothing lost, nothing doubled");
  });

  it("reports lost events, missing and doubled rows, repeated mails and undelivered events", () => {
    const landed = landedAsExpected(drop);
    const [first, second, third] = drop.events;
    landed.eventStatus.delete(first?.id ?? "");
    landed.eventStatus.set(second?.id ?? "", "dead");
    landed.admissions = { ...landed.admissions, completed: drop.expected.admissionsCompleted + 1 };
    landed.drawEntries -= 1;
    landed.repeatedMails = [{ to: "a@example.com", template: "draw-winner", count: 2 }];
    landed.emails = [{ template: "auction-won", status: "sent", count: 2 }];
    const reports = deliveredAll(drop).map((report) =>
      report.event.id === third?.id
        ? {
            ...report,
            delivered: false,
            attempts: [{ at: 0, status: 503, body: "busy", ok: false }],
          }
        : report,
    );
    const verdict = judge(drop, reports, landed);
    expect(verdict.ok).toBe(false);
    expect(verdict.lost).toEqual([
      { eventId: first?.id, type: first?.type, state: "missing" },
      { eventId: second?.id, type: second?.type, state: "dead" },
    ]);
    expect(verdict.undelivered).toEqual([
      { eventId: third?.id, type: third?.type, lastAnswer: "503 busy" },
    ]);
    const outcome = (name: string) => verdict.checks.find((c) => c.name === name)?.outcome;
    expect(outcome("admissions completed")).toBe("doubled");
    expect(outcome("admissions")).toBe("doubled");
    expect(outcome("draw_entries")).toBe("missing");
    expect(outcome("webhook_events completed")).toBe("missing");
    expect(outcome("email_outbox auction-won")).toBe("doubled");
    expect(outcome("email_outbox admission-granted")).toBe("ok");
    expect(verdict.summary).toBe(
      "FAILED: 2 events lost, 2 counts short of the drop, 4 doubled effects, 1 event never delivered",
    );
  });
});
