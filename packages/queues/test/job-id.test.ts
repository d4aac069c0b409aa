import { parseEnvelope } from "@fanfare-relay/events/envelope";
import { QueueKeys } from "bullmq";
import { describe, expect, it } from "vitest";
import { eventIdForJob, jobIdForEvent } from "../src/job-id.ts";
import { prng } from "@fanfare-relay/testing/prng";

/** BullMQ's own rule (Job.validateOptions): no integer ids, no `:`. */
const bullmqAccepts = (jobId: string) =>
  jobId.length > 0 && `${parseInt(jobId, 10)}` !== jobId && !jobId.includes(":");

/** Names BullMQ gives its own keys next to the job hashes, `<prefix>:<queue>:<name>`. */
const bullmqKeyNames = Object.keys(new QueueKeys("p").getKeys("q")).filter((name) => name !== "");

/** Random well-formed strings biased towards the characters the mapping treats specially. */
function randomIds(count: number, seed: number): string[] {
  const random = prng(seed);
  const pieces = ["~", "%", "%7E", "%25", ":", "0", "1", "9", "-", "_", ".", "a", "Z", " ", "é"];
  pieces.push("💥", "evt_", "\u0000", "\n", "+", "/", "?", "#", "&", "=", "'", '"', "\\", "seen");
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    let id = "";
    const parts = 1 + Math.floor(random() * 6);
    for (let j = 0; j < parts; j += 1) {
      id +=
        random() < 0.8
          ? (pieces[Math.floor(random() * pieces.length)] ?? "")
          : String.fromCodePoint(Math.floor(random() * 0xd7ff) + 1);
    }
    ids.push(id);
  }
  return ids;
}

describe("guarantee: every event id maps to one job id BullMQ accepts, and back (jobIdForEvent / eventIdForJob)", () => {
  it("the sender's ids and other plain ids (`evt_01HZ…`, `evt-1.2`, `_`, 255 characters) → kept verbatim as job ids", () => {
    for (const id of [
      "evt_01HZ0001CONSUMERAU",
      "evt-1.2",
      "_",
      "a",
      "Z9",
      "evt_1.2-3_4",
      "e".repeat(255),
    ]) {
      expect(jobIdForEvent(id)).toBe(id);
      expect(eventIdForJob(id)).toBe(id);
    }
  });

  it.each([
    ["123", "~123"],
    ["0", "~0"],
    ["-5", "~-5"],
    ["a:b:c", "~a~3Ab~3Ac"],
    ["~", "~~7E"],
    ["%", "~~25"],
    ["with space", "~with~20space"],
    ["a/b?c#d", "~a~2Fb~3Fc~23d"],
    ["it's (a)!*", "~it~27s~20~28a~29~21~2A"],
    ["évènement", "~~C3~A9v~C3~A8nement"],
    ["💥", "~~F0~9F~92~A5"],
  ])("the event id %j → the escaped job id %j, and back", (id, jobId) => {
    expect(jobIdForEvent(id)).toBe(jobId);
    expect(eventIdForJob(jobId)).toBe(id);
  });

  it.each(["123", "-5", "0", "007", "1e3", "12345678901234567890", "a:b:c", ":", "~", "~x", "%"])(
    "the event id %j (an integer, or with `:`, `~`, `%`) → a job id BullMQ accepts, and back",
    (id) => {
      const jobId = jobIdForEvent(id);
      expect(bullmqAccepts(jobId), `${id} → ${jobId}`).toBe(true);
      expect(eventIdForJob(jobId)).toBe(id);
    },
  );

  it("an event id equal to one of BullMQ's key names (`meta`, `id`, `wait`, `events` …) or the producer's `seen` → escaped, never a job id that names a key; ids merely like them stay verbatim", () => {
    expect(bullmqKeyNames).toEqual(expect.arrayContaining(["meta", "id", "wait", "events"]));
    for (const name of [...bullmqKeyNames, "seen", "metrics", "priority", "dn", "waiting"]) {
      const jobId = jobIdForEvent(name);
      expect(jobId, name).toBe(`~${name}`);
      expect(eventIdForJob(jobId)).toBe(name);
    }
    // Only the exact names: ids that merely start or end like them stay verbatim.
    for (const id of ["meta_1", "evt_wait", "Meta", "ID", "seen_1", "events2"]) {
      expect(jobIdForEvent(id)).toBe(id);
    }
  });

  it("5,000 random ids biased to `~`, `%`, `:`, digits and non-ASCII → each a job id BullMQ accepts, that reads back as it, no two alike", () => {
    const ids = [...new Set(randomIds(5_000, 7))];
    const seen = new Map<string, string>();
    for (const id of ids) {
      const jobId = jobIdForEvent(id);
      expect(bullmqAccepts(jobId), JSON.stringify(id)).toBe(true);
      expect(eventIdForJob(jobId)).toBe(id);
      expect(seen.get(jobId), `${JSON.stringify(id)} and ${JSON.stringify(seen.get(jobId))}`).toBe(
        undefined,
      );
      seen.set(jobId, id);
    }
    expect(seen.size).toBe(ids.length);
  });
});

describe("jobIdForEvent", () => {
  it("is injective over ids built to look like each other's escaped forms", () => {
    const base = ["evt_1", "123", "a:b", "~", "%", "meta", "seen", " ", "é"];
    const ids = new Set<string>();
    for (const id of base) {
      const escaped = jobIdForEvent(id);
      for (const variant of [
        id,
        escaped,
        `~${id}`,
        `~${escaped}`,
        escaped.slice(1),
        encodeURIComponent(id),
        `~${encodeURIComponent(escaped)}`,
        escaped.replaceAll("%7E", "~"),
        escaped.toLowerCase(),
      ]) {
        ids.add(variant);
      }
    }
    const jobIds = [...ids].map(jobIdForEvent);
    expect(new Set(jobIds).size).toBe(ids.size);
    for (const id of ids) expect(eventIdForJob(jobIdForEvent(id))).toBe(id);
  });

  it("handles every id the envelope accepts, and the envelope refuses the ids it cannot handle", () => {
    const envelope = (id: string) => ({
      id,
      type: "t",
      created: 1_764_150_060,
      organizationId: "o",
      data: {},
    });
    for (const id of randomIds(1_000, 11)) {
      if (!parseEnvelope(envelope(id)).success) continue;
      expect(() => jobIdForEvent(id)).not.toThrow();
    }
    const loneSurrogate = "evt_\ud800";
    expect(() => jobIdForEvent(loneSurrogate)).toThrow(URIError);
    expect(parseEnvelope(envelope(loneSurrogate)).success).toBe(false);
  });
});

/** What encodeURIComponent leaves alone, less `!*'()`: no URL router decodes any of these. */
const URL_SAFE = /^[A-Za-z0-9_.~-]+$/;

/** What an id must survive on its way to Bull Board: encoded by a link, decoded by routers. */
function survivesUrls(jobId: string) {
  expect(jobId, jobId).toMatch(URL_SAFE);
  expect(jobId).not.toContain("%");
  expect(encodeURIComponent(jobId)).toBe(jobId);
  // A router that decodes once more than it should (Bull Board's did) changes nothing.
  expect(decodeURIComponent(decodeURIComponent(jobId))).toBe(jobId);
}

describe("guarantee: every job id the ingest can produce opens in Bull Board", () => {
  it("an event id with `:`, `/`, a space, `#`, `?`, `%` or non-ASCII → a job id of URL-safe characters, no `%`, the same after any number of decodings", () => {
    for (const id of ["a:b", "a/b", "a b", "a#b", "a?b", "a%b", "a%25b", "é", "💥", "~", "meta"]) {
      const jobId = jobIdForEvent(id);
      survivesUrls(jobId);
      expect(eventIdForJob(jobId)).toBe(id);
      expect(eventIdForJob(decodeURIComponent(encodeURIComponent(jobId)))).toBe(id);
    }
  });

  it("every one of the 1,112,064 Unicode scalar values, alone and between `evt_` and `:1` → a URL-safe job id that reads back as it (so no two alike)", () => {
    let checked = 0;
    for (let code = 0; code <= 0x10ffff; code += 1) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const character = String.fromCodePoint(code);
      for (const id of [character, `evt_${character}:1`]) {
        const jobId = jobIdForEvent(id);
        // Reading back is what makes the mapping one-to-one: two ids cannot share a job id.
        if (!URL_SAFE.test(jobId) || eventIdForJob(jobId) !== id) {
          throw new Error(`${JSON.stringify(id)} → ${JSON.stringify(jobId)}`);
        }
      }
      checked += 1;
    }
    expect(checked).toBe(1_112_064);
  }, 60_000);

  it("every pair of ASCII characters (16,384 ids) → URL-safe, round-trips, no two alike", () => {
    const jobIds = new Set<string>();
    for (let a = 0; a < 128; a += 1) {
      for (let b = 0; b < 128; b += 1) {
        const id = String.fromCharCode(a, b);
        const jobId = jobIdForEvent(id);
        survivesUrls(jobId);
        expect(eventIdForJob(jobId)).toBe(id);
        jobIds.add(jobId);
      }
    }
    expect(jobIds.size).toBe(128 * 128);
  });

  it("5,000 random ids → URL-safe job ids", () => {
    for (const id of randomIds(5_000, 23)) survivesUrls(jobIdForEvent(id));
  });

  it("percent-encoded job ids of earlier versions (`~a%3Ab`, `~%7E`) → still read back as their event ids", () => {
    for (const [legacy, id] of [
      ["~a%3Ab%3Ac", "a:b:c"],
      ["~%7E", "~"],
      ["~%25", "%"],
      ["~with%20space", "with space"],
      ["~%C3%A9v%C3%A8nement", "évènement"],
      ["~123", "123"],
    ] as const) {
      expect(eventIdForJob(legacy)).toBe(id);
    }
  });
});
