import { describe, expect, it } from "vitest";
import { jsonDiff } from "../src/board/json-diff.ts";

describe("jsonDiff", () => {
  it("lists changed, removed and added leaves by dotted path, arrays by index", () => {
    const before = { id: "evt_1", data: { consumerId: "a", items: [1, 2, 3], gone: true } };
    const after = { id: "evt_1", data: { consumerId: "b", items: [1, 5], added: { x: null } } };
    expect(jsonDiff(before, after)).toEqual([
      { path: "data.consumerId", before: "a", after: "b" },
      { path: "data.items.1", before: 2, after: 5 },
      { path: "data.items.2", before: 3 },
      { path: "data.gone", before: true },
      { path: "data.added", after: { x: null } },
    ]);
  });

  it("equal values → no changes; a type change (object → array, value → null) is one change", () => {
    expect(jsonDiff({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toEqual([]);
    expect(jsonDiff({ a: { b: 1 } }, { a: [1] })).toEqual([
      { path: "a", before: { b: 1 }, after: [1] },
    ]);
    expect(jsonDiff({ a: 1 }, { a: null })).toEqual([{ path: "a", before: 1, after: null }]);
    expect(jsonDiff("x", "y")).toEqual([{ path: "", before: "x", after: "y" }]);
  });

  it("a `__proto__` key from a parsed body is an ordinary field", () => {
    const after = JSON.parse('{"__proto__": {"polluted": true}}') as unknown;
    expect(jsonDiff({}, after)).toEqual([{ path: "__proto__", after: { polluted: true } }]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
