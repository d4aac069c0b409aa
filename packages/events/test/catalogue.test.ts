import { describe, expect, expectTypeOf, it } from "vitest";
import {
  eventCatalogue,
  eventTypes,
  eventTypesOf,
  isEventType,
  parseEventData,
  type EventData,
  type FamilyEventType,
} from "../src/catalogue.ts";
import { parseEnvelope } from "../src/envelope.ts";
import { families, familyQueueNames, allQueueNames } from "../src/families.ts";
import { fixtureEvents } from "../src/fixtures.ts";

describe("the catalogue", () => {
  it("has exactly the 19 documented types, and one fixture of each", () => {
    expect(eventTypes).toHaveLength(19);
    expect(fixtureEvents.map((event) => event.type).sort()).toEqual([...eventTypes].sort());
  });

  it("maps every type to the family of its prefix and that family's queue", () => {
    for (const type of eventTypes) {
      const { family, queueName } = eventCatalogue[type];
      expect(type.startsWith(`${family}.`)).toBe(true);
      expect(queueName).toBe(`fanfare-${family}`);
    }
  });

  it("partitions the types by family", () => {
    const all = families.flatMap((family) => eventTypesOf(family));
    expect(all.sort()).toEqual([...eventTypes].sort());
    expect(eventTypesOf("draw")).toEqual([
      "draw.entry_created",
      "draw.winners_selected",
      "draw.prize_claimed",
      "draw.prize_expired",
    ]);
  });

  it("names the five family queues and the unrouted queue", () => {
    expect(Object.values(familyQueueNames)).toHaveLength(5);
    expect(allQueueNames).toContain("fanfare-unrouted");
    expect(new Set(allQueueNames).size).toBe(6);
  });

  it("knows its own types only, not inherited properties", () => {
    expect(isEventType("queue.consumer_entered")).toBe(true);
    expect(isEventType("toString")).toBe(false);
    expect(isEventType("loyalty.points_awarded")).toBe(false);
  });

  it("types data per event and lists a family's types", () => {
    expectTypeOf<EventData<"auction.bid_placed">["amount"]>().toEqualTypeOf<number>();
    expectTypeOf<FamilyEventType<"draw">>().toEqualTypeOf<
      "draw.entry_created" | "draw.winners_selected" | "draw.prize_claimed" | "draw.prize_expired"
    >();
  });
});

describe("the sender's sample events", () => {
  it.each(fixtureEvents.map((event) => [event.type, event] as const))(
    "%s parses, envelope and data",
    (_type, fixture) => {
      const envelope = parseEnvelope(fixture);
      expect(envelope.success).toBe(true);
      if (!envelope.success) return;
      expect(envelope.envelope).toEqual(fixture);
      const { type } = envelope.envelope;
      expect(isEventType(type)).toBe(true);
      if (!isEventType(type)) return;
      const data = parseEventData({ ...envelope.envelope, type });
      expect(data).toMatchObject({ success: true });
    },
  );
});

const base = {
  id: "evt_1",
  type: "queue.consumer_left",
  created: 1_764_150_060,
  organizationId: "org_1",
  data: {},
};

describe("parseEnvelope", () => {
  it("keeps unknown fields at the top level and in data", () => {
    const result = parseEnvelope({ ...base, livemode: true, data: { extra: [1, 2] } });
    expect(result).toEqual({
      success: true,
      envelope: { ...base, livemode: true, data: { extra: [1, 2] } },
    });
  });

  it.each([
    ["missing id", { ...base, id: undefined }, "id"],
    ["empty type", { ...base, type: "" }, "type"],
    ["fractional created", { ...base, created: 1.5 }, "created"],
    ["created as a string", { ...base, created: "1764150060" }, "created"],
    ["negative created", { ...base, created: -1 }, "created"],
    ["data as an array", { ...base, data: [] }, "data"],
    ["data as null", { ...base, data: null }, "data"],
    ["missing organization", { ...base, organizationId: undefined }, "organizationId"],
    [
      "an id with a lone surrogate",
      JSON.parse('{"id":"evt_\\ud800","type":"t","created":1,"organizationId":"o","data":{}}'),
      "id",
    ],
  ])("rejects %s, naming the field", (_label, value, path) => {
    const result = parseEnvelope(value);
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.issues.map((issue) => issue.path)).toContain(path);
  });

  it("rejects a body that is not an object", () => {
    for (const value of [null, 42, "x", [base]]) expect(parseEnvelope(value).success).toBe(false);
  });

  it("never echoes the offending value", () => {
    const result = parseEnvelope({ ...base, created: "ada@example.com" });
    expect(JSON.stringify(result)).not.toContain("ada@example.com");
  });
});

describe("parseEventData", () => {
  const bid = fixtureEvents.find((event) => event.type === "auction.bid_placed");
  if (!bid) throw new Error("fixture missing");
  const withData = (data: Record<string, unknown>) =>
    parseEventData({ ...bid, type: "auction.bid_placed" as const, data: { ...bid.data, ...data } });

  it.each([
    ["a fractional amount (money is integer minor units)", { amount: 250.5 }, "data.amount"],
    ["a negative amount", { amount: -1 }, "data.amount"],
    ["a lower-case currency", { currency: "usd" }, "data.currency"],
    ["a bad timestamp", { placedAt: "yesterday" }, "data.placedAt"],
    ["a missing consumer", { consumerId: undefined }, "data.consumerId"],
  ])("rejects %s", (_label, data, path) => {
    const result = withData(data);
    expect(result.success).toBe(false);
    if (!result.success) expect(result.issues.map((issue) => issue.path)).toContain(path);
  });

  it("returns typed data, unknown fields kept", () => {
    const result = withData({ note: "kept" });
    expect(result.success).toBe(true);
    if (result.success) expect(result.event.data).toMatchObject({ amount: 25000, note: "kept" });
  });

  it("accepts an auction that ended without bids", () => {
    const ended = parseEventData({
      ...base,
      type: "auction.auction_ended" as const,
      data: {
        auctionId: "a",
        experienceId: "e",
        winnerId: null,
        finalBid: null,
        endedAt: "2025-11-26T10:40:00.000Z",
      },
    });
    expect(ended.success).toBe(true);
  });
});
