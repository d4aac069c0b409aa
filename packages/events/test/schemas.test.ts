import { describe, expect, expectTypeOf, it } from "vitest";
import {
  eventCatalogue,
  eventTypes,
  eventTypesOf,
  parseEventData,
  type EventData,
  type EventType,
  type FamilyEventType,
  type TypedEvent,
} from "../src/catalogue.ts";
import { parseEnvelope, type Envelope } from "../src/envelope.ts";
import { families, familyQueueNames, unroutedQueueName } from "../src/families.ts";
import { fixtureEvents } from "../src/fixtures.ts";

function fixtureOf<T extends EventType>(type: T): Envelope & { type: T } {
  const found = fixtureEvents.find((event) => event.type === type);
  if (!found) throw new Error(`no fixture for ${type}`);
  return { ...found, type, data: structuredClone(found.data) };
}

function withData<T extends EventType>(type: T, patch: Record<string, unknown>) {
  const fixture = fixtureOf(type);
  return parseEventData({ ...fixture, data: { ...fixture.data, ...patch } });
}

function withoutField<T extends EventType>(type: T, field: string) {
  const fixture = fixtureOf(type);
  const data = Object.fromEntries(Object.entries(fixture.data).filter(([key]) => key !== field));
  return parseEventData({ ...fixture, data });
}

function pathsOf(result: { success: true } | { success: false; issues: { path: string }[] }) {
  return result.success ? [] : result.issues.map((issue) => issue.path);
}

/** The data fields a sender may leave out, per type: the contract the workers rely on. */
const optionalFields: { [T in EventType]: readonly (keyof EventData<T> & string)[] } = {
  "queue.consumer_entered": ["distributionId"],
  "queue.consumer_admitted": ["distributionId", "position", "waitTimeSeconds"],
  "queue.consumer_left": ["distributionId", "reason"],
  "queue.admission_completed": ["distributionId", "orderId"],
  "queue.admission_expired": ["distributionId"],
  "draw.entry_created": [],
  "draw.winners_selected": ["selectionMethod"],
  "draw.prize_claimed": ["claimToken", "orderId"],
  "draw.prize_expired": ["claimToken"],
  "auction.bid_placed": [],
  "auction.outbid": [],
  "auction.auction_ended": ["winnerId", "finalBid", "currency"],
  "auction.winner_notified": [],
  "experience.started": ["name"],
  "experience.ended": ["totalParticipants"],
  "experience.paused": ["reason"],
  "experience.resumed": ["pausedDuration"],
  "consumer.authenticated": ["email", "method"],
  "consumer.linked": ["email"],
};

describe("the catalogue, type by type", () => {
  it.each(eventTypes)("%s: its family's queue, and listed under that family only", (type) => {
    const { family, queueName } = eventCatalogue[type];
    expect(families).toContain(family);
    expect(queueName).toBe(familyQueueNames[family]);
    expect(queueName).toBe(`fanfare-${family}`);
    expect(queueName).not.toBe(unroutedQueueName);
    const listedUnder = families.filter((f) => (eventTypesOf(f) as string[]).includes(type));
    expect(listedUnder).toEqual([family]);
  });

  it("gives every family at least one type and no type twice", () => {
    for (const family of families) expect(eventTypesOf(family).length).toBeGreaterThan(0);
    expect(families.map((family) => eventTypesOf(family).length)).toEqual([5, 4, 4, 4, 2]);
    expect(new Set(eventTypes).size).toBe(eventTypes.length);
  });

  it("has fixtures with distinct ids, one per type", () => {
    expect(fixtureEvents).toHaveLength(19);
    expect(new Set(fixtureEvents.map((event) => event.id)).size).toBe(19);
    expect(new Set(fixtureEvents.map((event) => event.type)).size).toBe(19);
  });
});

describe("every fixture", () => {
  it.each(fixtureEvents.map((event) => [event.type, event] as const))(
    "%s: parseEventData returns the envelope unchanged",
    (type, fixture) => {
      const envelope = parseEnvelope(fixture);
      if (!envelope.success) throw new Error(JSON.stringify(envelope.issues));
      expect(type in eventCatalogue).toBe(true);
      const result = parseEventData({ ...envelope.envelope, type: type as EventType });
      expect(result).toEqual({ success: true, event: fixture });
    },
  );
});

describe("required and optional data fields", () => {
  const cases = fixtureEvents.flatMap((fixture) =>
    Object.keys(fixture.data).map((field) => [fixture.type as EventType, field] as const),
  );

  it("the optional-field table only names fields the fixtures carry", () => {
    for (const type of eventTypes) {
      for (const field of optionalFields[type]) expect(fixtureOf(type).data).toHaveProperty(field);
    }
  });

  it.each(cases)("%s without %s", (type, field) => {
    const result = withoutField(type, field);
    const optional: readonly string[] = optionalFields[type];
    if (optional.includes(field)) {
      expect(result.success).toBe(true);
    } else {
      expect(result.success).toBe(false);
      expect(pathsOf(result)).toEqual([`data.${field}`]);
    }
  });

  it("null is accepted only where the schema says so", () => {
    expect(withData("auction.auction_ended", { winnerId: null, finalBid: null }).success).toBe(
      true,
    );
    expect(withData("consumer.authenticated", { email: null }).success).toBe(true);
    expect(pathsOf(withData("draw.prize_claimed", { claimToken: null }))).toEqual([
      "data.claimToken",
    ]);
    expect(pathsOf(withData("auction.bid_placed", { amount: null }))).toEqual(["data.amount"]);
  });
});

describe("data values", () => {
  it.each([
    ["a fractional amount", 250.5],
    ["a negative amount", -100],
    ["an amount as a string", "25000"],
    ["an amount as a decimal string", "250.00"],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["an amount beyond 2^53", 2 ** 53 + 2],
  ])("auction.bid_placed rejects %s at data.amount", (_label, amount) => {
    expect(pathsOf(withData("auction.bid_placed", { amount }))).toEqual(["data.amount"]);
  });

  it("takes money as integer minor units, zero included", () => {
    for (const amount of [0, 1, 25_000, Number.MAX_SAFE_INTEGER]) {
      expect(withData("auction.bid_placed", { amount }).success).toBe(true);
    }
    expect(pathsOf(withData("auction.outbid", { newHighBid: 0.1 }))).toEqual(["data.newHighBid"]);
    expect(pathsOf(withData("auction.auction_ended", { finalBid: 9.99 }))).toEqual([
      "data.finalBid",
    ]);
  });

  it.each(["usd", "US", "USDD", "U$D", "", " USD", 840])("rejects the currency %j", (currency) => {
    expect(pathsOf(withData("auction.bid_placed", { currency }))).toEqual(["data.currency"]);
  });

  it.each([
    "yesterday",
    "2025-11-26",
    "2025-11-26 09:42:20",
    "2025-13-26T09:42:20.000Z",
    "2025-11-26T25:42:20.000Z",
    "26/11/2025",
    "",
    1_764_150_140,
  ])("rejects the instant %j", (placedAt) => {
    expect(pathsOf(withData("auction.bid_placed", { placedAt }))).toEqual(["data.placedAt"]);
  });

  it.each(["2025-11-26T09:42:20Z", "2025-11-26T09:42:20.123Z", "2025-11-26T10:42:20+01:00"])(
    "accepts the instant %s",
    (placedAt) => {
      expect(withData("auction.bid_placed", { placedAt }).success).toBe(true);
    },
  );

  it("rejects empty and over-long ids and non-integer counts", () => {
    expect(pathsOf(withData("draw.entry_created", { drawId: "" }))).toEqual(["data.drawId"]);
    expect(pathsOf(withData("draw.entry_created", { drawId: "d".repeat(256) }))).toEqual([
      "data.drawId",
    ]);
    expect(withData("draw.entry_created", { drawId: "d".repeat(255) }).success).toBe(true);
    expect(pathsOf(withData("draw.entry_created", { entryNumber: 1.5 }))).toEqual([
      "data.entryNumber",
    ]);
    expect(pathsOf(withData("queue.consumer_entered", { position: -1 }))).toEqual([
      "data.position",
    ]);
  });

  it("rejects a malformed email", () => {
    expect(pathsOf(withData("consumer.linked", { email: "not an email" }))).toEqual(["data.email"]);
  });

  it("reports nested issues with dotted paths, array indices included", () => {
    const fixture = fixtureOf("draw.winners_selected");
    const winners = fixture.data.winners as Record<string, unknown>[];
    expect(winners.length).toBeGreaterThan(0);
    const broken = [
      ...winners,
      { consumerId: "con_x", position: 1.5, claimToken: "", claimDeadline: "soon" },
    ];
    const index = winners.length;
    const result = parseEventData({ ...fixture, data: { ...fixture.data, winners: broken } });
    expect(pathsOf(result).sort()).toEqual(
      [
        `data.winners.${index}.claimDeadline`,
        `data.winners.${index}.claimToken`,
        `data.winners.${index}.position`,
      ].sort(),
    );
    expect(pathsOf(withData("draw.winners_selected", { winners: {} }))).toEqual(["data.winners"]);
  });

  it("reports every broken field at once", () => {
    expect(
      pathsOf(withData("auction.bid_placed", { amount: 1.5, currency: "usd", bidId: 7 })).sort(),
    ).toEqual(["data.amount", "data.bidId", "data.currency"]);
  });

  it("keeps unknown fields, nested ones too", () => {
    const fixture = fixtureOf("draw.winners_selected");
    const winners = (fixture.data.winners as Record<string, unknown>[]).map((winner) => ({
      ...winner,
      tier: "gold",
    }));
    const result = parseEventData({
      ...fixture,
      livemode: false,
      data: { ...fixture.data, winners, campaign: { id: "c1" } },
    });
    if (!result.success) throw new Error(JSON.stringify(result.issues));
    expect(result.event).toMatchObject({ livemode: false, data: { campaign: { id: "c1" } } });
    expect(result.event.data.winners.every((winner) => winner.tier === "gold")).toBe(true);
  });
});

describe("issues never carry the offending value", () => {
  const secret = "ada.lovelace@example.com";
  it.each([
    ["an envelope id", () => parseEnvelope({ ...fixtureOf("consumer.linked"), id: [secret] })],
    ["a created", () => parseEnvelope({ ...fixtureOf("consumer.linked"), created: secret })],
    ["a data object", () => parseEnvelope({ ...fixtureOf("consumer.linked"), data: secret })],
    ["an email", () => withData("consumer.linked", { email: `x ${secret}` })],
    ["a currency", () => withData("auction.bid_placed", { currency: secret })],
    ["an instant", () => withData("auction.bid_placed", { placedAt: secret })],
    ["an amount", () => withData("auction.bid_placed", { amount: secret })],
    [
      "an id that is too long",
      () => withData("consumer.linked", { consumerId: secret.repeat(20) }),
    ],
  ])("%s", (_label, parse) => {
    const result = parse();
    expect(result.success).toBe(false);
    expect(JSON.stringify(result)).not.toContain("lovelace");
  });
});

describe("the envelope", () => {
  const base = fixtureOf("queue.consumer_left");

  it("accepts the edges of its fields", () => {
    for (const envelope of [
      { ...base, created: 946_684_800 },
      { ...base, created: 4_102_444_800 },
      { ...base, id: "x" },
      { ...base, id: "i".repeat(255) },
      { ...base, experienceId: undefined },
      { ...base, data: {} },
      { ...base, id: "évènement 💥" },
    ]) {
      expect(parseEnvelope(envelope).success).toBe(true);
    }
  });

  it.each([
    ["id too long", { ...base, id: "i".repeat(256) }, "id"],
    ["id a number", { ...base, id: 42 }, "id"],
    ["empty id", { ...base, id: "" }, "id"],
    ["type missing", { ...base, type: undefined }, "type"],
    ["type a number", { ...base, type: 1 }, "type"],
    ["created missing", { ...base, created: undefined }, "created"],
    ["created NaN", { ...base, created: Number.NaN }, "created"],
    ["created in milliseconds as a float", { ...base, created: 1_764_150_060_000.5 }, "created"],
    ["empty organizationId", { ...base, organizationId: "" }, "organizationId"],
    ["empty experienceId", { ...base, experienceId: "" }, "experienceId"],
    ["experienceId null", { ...base, experienceId: null }, "experienceId"],
    ["data missing", { ...base, data: undefined }, "data"],
    ["data a string", { ...base, data: "{}" }, "data"],
  ])("rejects %s at its path", (_label, value, path) => {
    const result = parseEnvelope(value);
    expect(pathsOf(result)).toEqual([path]);
  });

  it("names the root when the body is not an object", () => {
    expect(pathsOf(parseEnvelope("not json"))).toEqual(["(root)"]);
    expect(pathsOf(parseEnvelope(undefined))).toEqual(["(root)"]);
  });

  it("reports every broken field at once", () => {
    expect(pathsOf(parseEnvelope({ data: [] })).sort()).toEqual(
      ["created", "data", "id", "organizationId", "type"].sort(),
    );
  });

  it("passes unknown types through: routing them is not its job", () => {
    const result = parseEnvelope({ ...base, type: "loyalty.points_awarded" });
    expect(result).toMatchObject({ success: true, envelope: { type: "loyalty.points_awarded" } });
  });
});

describe("types", () => {
  it("narrows data per event type", () => {
    expectTypeOf<EventData<"auction.bid_placed">["amount"]>().toEqualTypeOf<number>();
    expectTypeOf<EventData<"auction.bid_placed">["currency"]>().toEqualTypeOf<string>();
    expectTypeOf<EventData<"auction.auction_ended">["winnerId"]>().toEqualTypeOf<
      string | null | undefined
    >();
    expectTypeOf<
      EventData<"draw.winners_selected">["winners"][number]["position"]
    >().toEqualTypeOf<number>();
    expectTypeOf<TypedEvent<"draw.prize_claimed">["type"]>().toEqualTypeOf<"draw.prize_claimed">();
  });

  it("lists each family's types", () => {
    expectTypeOf<FamilyEventType<"draw">>().toEqualTypeOf<
      "draw.entry_created" | "draw.winners_selected" | "draw.prize_claimed" | "draw.prize_expired"
    >();
    expectTypeOf<FamilyEventType<"consumer">>().toEqualTypeOf<
      "consumer.authenticated" | "consumer.linked"
    >();
    expectTypeOf(eventTypesOf("auction")).toEqualTypeOf<FamilyEventType<"auction">[]>();
  });

  it("types a parsed event by its type", () => {
    const result = parseEventData(fixtureOf("auction.bid_placed"));
    if (!result.success) throw new Error("fixture must parse");
    expectTypeOf(result.event.type).toEqualTypeOf<"auction.bid_placed">();
    expectTypeOf(result.event.data.amount).toEqualTypeOf<number>();
    expect(result.event.data.amount).toBe(25_000);
  });
});
