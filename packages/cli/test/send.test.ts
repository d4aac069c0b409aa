import { eventCatalogue, eventTypes, parseEventData } from "@fanfare-relay/events/catalogue";
import { parseEnvelope, type Envelope } from "@fanfare-relay/events/envelope";
import { fixtureEvents } from "@fanfare-relay/events/fixtures";
import { freePort } from "@fanfare-relay/testing/free-port";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendCommand } from "../src/commands/send.ts";
import { LOCAL_DEMO_SECRET } from "@fanfare-relay/config/demo-secret";
import { resolveIngestTarget } from "../src/send/defaults.ts";
import { applyOverrides, parseOverride } from "../src/send/overrides.ts";
import { sampleEventOfType } from "../src/send/sample-event.ts";
import { runCommand } from "./send-run.ts";
import { SECRET, startIngest, type Ingest } from "./simulate-relay.ts";

let ingest: Ingest;
let dir: string;

beforeAll(async () => {
  ingest = await startIngest("cli-send");
  dir = await mkdtemp(join(tmpdir(), "cli-send-"));
});

afterAll(async () => {
  await ingest.close();
  await rm(dir, { recursive: true, force: true });
});

const send = (...args: string[]) =>
  runCommand(sendCommand(), ["send", ...args, "--url", ingest.url, "--secret", SECRET]);

/** `200 evt_… type body` → its parts. */
const parse = (line: string) => {
  const [status, eventId, type, ...body] = line.split(" ");
  return { status, eventId: eventId ?? "", type, body: body.join(" ") };
};

describe("fanfare-relay send", () => {
  it("--help → every event type and every fixture id with its type", async () => {
    const { lines } = await runCommand(sendCommand(), ["send", "--help"]);
    const help = lines.join("\n");
    for (const type of eventTypes) expect(lines).toContain(`  ${type}`);
    for (const fixture of fixtureEvents) {
      expect(help).toMatch(
        new RegExp(`^  ${fixture.id} +${fixture.type.replace(".", "\\.")}$`, "m"),
      );
    }
    expect(help).toContain("Event types");
    expect(help).toContain("Fixture ids");
  });

  it("posts a fresh sample of a type; duplicates of one event become one job", async () => {
    const { lines, error } = await send("queue.consumer_entered", "--duplicate", "3");
    expect(error).toBeUndefined();
    const deliveries = lines.map(parse);
    expect(deliveries).toHaveLength(3);
    expect(new Set(deliveries.map((d) => d.eventId)).size).toBe(1);
    expect(deliveries.every((d) => d.status === "200" && d.type === "queue.consumer_entered")).toBe(
      true,
    );
    expect(deliveries.map((d) => d.body).sort()).toEqual([
      '{"received":true,"duplicate":true}',
      '{"received":true,"duplicate":true}',
      '{"received":true}',
    ]);
    const eventId = deliveries[0]?.eventId ?? "";
    const job = await ingest.job("fanfare-queue", eventId);
    expect(job?.name).toBe("queue.consumer_entered");
    expect((job?.data as Envelope).id).toBe(eventId);
    expect(await ingest.jobCount("fanfare-queue")).toBe(1);
  });

  it("makes --count events with their own ids and applies every --set", async () => {
    const { lines, error } = await send(
      "draw.entry_created",
      "--count",
      "3",
      "--set",
      "data.consumerId=con_x",
      "--set",
      "data.entryNumber=7",
      "--set",
      "data.note.source=cli",
    );
    expect(error).toBeUndefined();
    const ids = lines.map((line) => parse(line).eventId);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) {
      const job = await ingest.job("fanfare-draw", id);
      const data = (job?.data as Envelope).data;
      expect(data).toMatchObject({ consumerId: "con_x", entryNumber: 7, note: { source: "cli" } });
      expect(typeof data.entryNumber).toBe("number");
    }
  });

  it("sends a JSON file of envelopes, in order or shuffled", async () => {
    const events = [
      { ...sampleEventOfType("consumer.authenticated"), id: "evt_cli_file_1" },
      { ...sampleEventOfType("auction.bid_placed"), id: "evt_cli_file_2" },
    ];
    const file = join(dir, "events.json");
    await writeFile(file, JSON.stringify(events));
    const { lines, error } = await send(file, "--shuffle");
    expect(error).toBeUndefined();
    expect(lines.map((line) => parse(line).eventId).sort()).toEqual([
      "evt_cli_file_1",
      "evt_cli_file_2",
    ]);
    expect((await ingest.job("fanfare-consumer", "evt_cli_file_1"))?.data).toEqual(events[0]);
    expect((await ingest.job("fanfare-auction", "evt_cli_file_2"))?.data).toEqual(events[1]);

    const single = join(dir, "one.json");
    await writeFile(single, JSON.stringify({ ...events[0], id: "evt_cli_file_3" }));
    expect((await send(single)).error).toBeUndefined();
    expect(await ingest.job("fanfare-consumer", "evt_cli_file_3")).toBeDefined();
  });

  it("sends a fixture as it is, with --id overriding its id", async () => {
    const fixture = fixtureEvents.find((event) => event.type === "draw.winners_selected");
    const { lines, error } = await send(fixture?.id ?? "", "--id", "evt_cli_fixture_1");
    expect(error).toBeUndefined();
    expect(parse(lines[0] ?? "").eventId).toBe("evt_cli_fixture_1");
    const job = await ingest.job("fanfare-draw", "evt_cli_fixture_1");
    expect(job?.data).toEqual({ ...fixture, id: "evt_cli_fixture_1" });
  });

  it("refuses an unknown type, a bad file or a bad --set with one clear line", async () => {
    const before = await ingest.jobCount("fanfare-queue");
    const unknown = await send("queue.consumer_entred");
    expect(unknown.error?.message).toMatch(
      /^"queue.consumer_entred" is neither an event type, a fixture id nor a file\. Event types: queue\.consumer_entered, /,
    );
    expect(unknown.lines).toEqual([]);

    const file = join(dir, "bad.json");
    await writeFile(file, "[1, 2]");
    expect((await send(file)).error?.message).toMatch(
      /must hold one event object or a non-empty array/,
    );
    await writeFile(file, "{ nope");
    expect((await send(file)).error?.message).toMatch(/is not readable JSON/);
    expect((await send("queue.consumer_left", "--set", "nothing")).error?.message).toMatch(
      /--set expects <dotted.path>=<value>/,
    );
    expect((await send(file, "--count", "2")).error?.message).toBe(
      "--count only applies to an event type",
    );
    expect((await send("queue.consumer_left", "--count", "0")).error?.message).toMatch(
      /--count.*expected a whole number/,
    );
    expect(await ingest.jobCount("fanfare-queue")).toBe(before);
  });

  it("fails with exit code 1 and says why when deliveries are refused or unreachable", async () => {
    const wrongSecret = await runCommand(sendCommand(), [
      "send",
      "experience.started",
      "--url",
      ingest.url,
      "--secret",
      "whsec_wrong",
    ]);
    expect(parse(wrongSecret.lines[0] ?? "")).toMatchObject({ status: "401" });
    expect(wrongSecret.lines[0]).toContain("INGEST_BAD_SIGNATURE");
    expect(wrongSecret.error?.message).toBe(
      "1 of 1 deliveries failed (HTTP 401); check --secret (or FANFARE_WEBHOOK_SECRETS) against the ingest's",
    );

    const closed = `http://127.0.0.1:${await freePort()}/webhooks/fanfare`;
    const unreachable = await runCommand(sendCommand(), [
      "send",
      "experience.started",
      "--url",
      closed,
    ]);
    expect(unreachable.lines[0]).toMatch(/^ERR evt_cli_\w+ experience\.started .*ECONNREFUSED/);
    expect(unreachable.error?.message).toMatch(
      /^1 of 1 deliveries failed: could not reach the ingest at .* \(.*ECONNREFUSED.*\); is it running\?/,
    );
    expect(unreachable.error?.message).toContain(closed);
  });
});

describe("sample events", () => {
  it("exist for all 19 types, valid, fresh, with deadlines still ahead", () => {
    const now = new Date();
    expect(eventTypes).toHaveLength(19);
    for (const type of eventTypes) {
      const event = sampleEventOfType(type, now);
      const envelope = parseEnvelope(event);
      expect(envelope.success, type).toBe(true);
      expect(parseEventData({ ...event, type }).success, type).toBe(true);
      expect(event.created).toBe(Math.floor(now.getTime() / 1000));
      expect(eventCatalogue[type].family).toBe(type.split(".")[0]);
    }
    expect(sampleEventOfType("queue.consumer_entered").id).not.toBe(
      sampleEventOfType("queue.consumer_entered").id,
    );
    const admitted = sampleEventOfType("queue.consumer_admitted", now).data;
    expect(Date.parse(String(admitted.expiresAt)) - now.getTime()).toBeGreaterThan(9 * 60_000);
    expect(Math.abs(Date.parse(String(admitted.admittedAt)) - now.getTime())).toBeLessThan(1_000);
    const { winners } = sampleEventOfType("draw.winners_selected", now).data as {
      winners: { claimDeadline: string }[];
    };
    for (const winner of winners) {
      expect(Date.parse(winner.claimDeadline)).toBeGreaterThan(now.getTime() + 23 * 3_600_000);
    }
  });
});

describe("--set overrides", () => {
  it("parses JSON values, else strings, and writes dotted paths into a copy", () => {
    const event = { id: "a", data: { list: [{ x: 1 }], n: 1 } };
    const changed = applyOverrides(
      event,
      [
        "data.n=5",
        "data.s=hello world",
        'data.q="5"',
        "data.nil=null",
        "data.list.0.x=2",
        "data.deep.er=[1,2]",
        "id=evt_x",
        "data.eq=a=b",
      ].map(parseOverride),
    );
    expect(changed).toEqual({
      id: "evt_x",
      data: {
        list: [{ x: 2 }],
        n: 5,
        s: "hello world",
        q: "5",
        nil: null,
        deep: { er: [1, 2] },
        eq: "a=b",
      },
    });
    expect(event.data.n).toBe(1);
    expect(() => parseOverride("data.__proto__.x=1")).toThrow(/cannot write a "__proto__" key/);
    expect(() => parseOverride("=1")).toThrow(/--set expects/);
    expect(() => applyOverrides(event, [parseOverride("data.list.x=1")])).toThrow(/not an index/);
  });
});

describe("--url and --secret defaults", () => {
  it("take the flag, else the ingest's variables, else pnpm start's local values", () => {
    expect(resolveIngestTarget({}, {})).toEqual({
      url: "http://127.0.0.1:3000/webhooks/fanfare",
      secret: LOCAL_DEMO_SECRET,
    });
    const env = {
      FANFARE_INGEST_URL: "https://relay.example/webhooks/fanfare",
      FANFARE_WEBHOOK_SECRETS: " whsec_new , whsec_old",
    };
    expect(resolveIngestTarget({}, env)).toEqual({
      url: "https://relay.example/webhooks/fanfare",
      secret: "whsec_new",
    });
    expect(resolveIngestTarget({ url: "http://x:1/y", secret: "s" }, env)).toEqual({
      url: "http://x:1/y",
      secret: "s",
    });
    expect(() => resolveIngestTarget({}, { FANFARE_INGEST_URL: "ftp://x" })).toThrow(
      "FANFARE_INGEST_URL must be an http:// or https:// URL",
    );
  });
});
