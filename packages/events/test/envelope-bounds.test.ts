import { describe, expect, it } from "vitest";
import {
  CREATED_MAX_SECONDS,
  CREATED_MIN_SECONDS,
  MAX_NESTING_DEPTH,
  parseEnvelope,
} from "../src/envelope.ts";

const base = {
  id: "evt_bounds",
  type: "queue.consumer_left",
  created: 1_764_150_060,
  organizationId: "org_1",
  experienceId: "exp_1",
  data: { consumerId: "con_1" },
};

function pathsOf(value: unknown): string[] {
  const result = parseEnvelope(value);
  return result.success ? [] : result.issues.map((issue) => issue.path);
}

/** `levels` nested objects: nested(1) is `{}`, nested(2) is `{"a":{}}`. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let level = 1; level < levels; level++) value = { a: value };
  return value;
}

describe("guarantee: the envelope accepts only what the system can store and process", () => {
  it("created at 2000-01-01 and 2100-01-01 → accepted; one second outside, or in milliseconds (10000000000000) → refused at `created`", () => {
    expect(parseEnvelope({ ...base, created: CREATED_MIN_SECONDS }).success).toBe(true);
    expect(parseEnvelope({ ...base, created: CREATED_MAX_SECONDS }).success).toBe(true);
    for (const created of [
      CREATED_MIN_SECONDS - 1,
      CREATED_MAX_SECONDS + 1,
      10_000_000_000_000,
      1_764_150_060_000,
      0,
      Number.POSITIVE_INFINITY,
      Number.MAX_SAFE_INTEGER + 2,
    ]) {
      expect(new Set(pathsOf({ ...base, created })), String(created)).toEqual(new Set(["created"]));
    }
  });

  it("ids of 255 characters and a type of 200 → accepted; one more → refused at the field", () => {
    expect(
      parseEnvelope({
        ...base,
        id: "i".repeat(255),
        organizationId: "o".repeat(255),
        experienceId: "e".repeat(255),
        type: "t".repeat(200),
      }).success,
    ).toBe(true);
    expect(pathsOf({ ...base, organizationId: "o".repeat(256) })).toEqual(["organizationId"]);
    expect(pathsOf({ ...base, experienceId: "e".repeat(256) })).toEqual(["experienceId"]);
    expect(pathsOf({ ...base, type: "t".repeat(201) })).toEqual(["type"]);
  });

  it("NUL in each envelope field, in data at any depth, in a key, in an extra field → refused, the issue naming that field", () => {
    const nul = "a\u0000b";
    const cases: [unknown, string][] = [
      [{ ...base, id: nul }, "id"],
      [{ ...base, type: nul }, "type"],
      [{ ...base, organizationId: nul }, "organizationId"],
      [{ ...base, experienceId: nul }, "experienceId"],
      [{ ...base, data: { consumerId: nul } }, "data.consumerId"],
      [{ ...base, data: { list: ["ok", { deep: nul }] } }, "data.list.1.deep"],
      [{ ...base, data: { [nul]: 1 } }, `data.${nul}`],
      [{ ...base, livemode: nul }, "livemode"],
      [{ ...base, data: { lone: "\ud800" } }, "data.lone"],
    ];
    for (const [value, path] of cases) expect(pathsOf(value), path).toEqual([path]);
  });

  it("the refusal never echoes the offending value", () => {
    const result = parseEnvelope({ ...base, data: { email: "ada@example.com\u0000" } });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result)).not.toContain("ada@example.com");
  });

  it(`objects nested ${MAX_NESTING_DEPTH} levels (envelope = 1) → accepted; ${MAX_NESTING_DEPTH + 1} and 10,000 levels → refused, naming the path`, () => {
    // The envelope is level 1 and data level 2: data holds MAX - 1 levels.
    expect(parseEnvelope({ ...base, data: nested(MAX_NESTING_DEPTH - 1) }).success).toBe(true);
    const tooDeep = pathsOf({ ...base, data: nested(MAX_NESTING_DEPTH) });
    expect(tooDeep).toHaveLength(1);
    expect(tooDeep[0]).toMatch(/^data(\.a)+$/);
    const arrays = JSON.parse(`${"[".repeat(10_000)}${"]".repeat(10_000)}`) as unknown;
    expect(pathsOf({ ...base, data: { arrays } })[0]).toMatch(/^data\.arrays(\.0)+$/);
    expect(pathsOf({ ...base, data: nested(10_000) })).toHaveLength(1);
  });
});
