import { describe, expect, it } from "vitest";
import { parseSignatureHeader } from "../src/parse-header.ts";

const T = 1_764_150_140;
const A = "a".repeat(64);
const B = "0123456789abcdef".repeat(4);

describe("parseSignatureHeader", () => {
  it("decodes the timestamp and every v1 digest", () => {
    const parsed = parseSignatureHeader(`t=${T},v1=${A},v1=${B}`);
    expect(parsed?.timestamp).toBe(T);
    expect(parsed?.signatures.map((s) => s.toString("hex"))).toEqual([A, B]);
    expect(parsed?.signatures.every((s) => s.length === 32)).toBe(true);
  });

  it("takes the parts in any order, upper-case hex and spaces around parts", () => {
    expect(parseSignatureHeader(`v1=${B.toUpperCase()} ,  t=${T}`)).toEqual({
      timestamp: T,
      signatures: [Buffer.from(B, "hex")],
    });
  });

  it("ignores other schemes but still requires a v1", () => {
    expect(parseSignatureHeader(`t=${T},v0=${A},v2=anything,v1=${B}`)?.signatures).toHaveLength(1);
    expect(parseSignatureHeader(`t=${T},v0=${A}`)).toBeUndefined();
    expect(parseSignatureHeader(`t=${T},V1=${A}`)).toBeUndefined();
  });

  it("accepts a header repeated by a proxy when its timestamps agree", () => {
    const one = `t=${T},v1=${A}`;
    expect(parseSignatureHeader(`${one}, ${one}`)?.signatures).toHaveLength(2);
    expect(parseSignatureHeader(`${one}, t=${T + 1},v1=${A}`)).toBeUndefined();
  });

  it("accepts t=0 and twelve digits, not thirteen", () => {
    expect(parseSignatureHeader(`t=0,v1=${A}`)?.timestamp).toBe(0);
    expect(parseSignatureHeader(`t=999999999999,v1=${A}`)?.timestamp).toBe(999_999_999_999);
    expect(parseSignatureHeader(`t=1000000000000,v1=${A}`)).toBeUndefined();
  });

  it("caps the number of signatures at 16", () => {
    const entries = (n: number) => Array.from({ length: n }, () => `v1=${A}`).join(",");
    expect(parseSignatureHeader(`t=${T},${entries(16)}`)?.signatures).toHaveLength(16);
    expect(parseSignatureHeader(`t=${T},${entries(17)}`)).toBeUndefined();
  });

  it("caps the header at 4096 characters", () => {
    const header = (length: number) => {
      const head = `t=${T},v1=${A},x=`;
      return head + "y".repeat(length - head.length);
    };
    expect(parseSignatureHeader(header(4096))).toBeDefined();
    expect(parseSignatureHeader(header(4097))).toBeUndefined();
  });

  it.each([
    "",
    "t",
    "t=",
    "=",
    "=1",
    ",",
    `t=${T},`,
    `,t=${T},v1=${A}`,
    `t=${T},,v1=${A}`,
    `t=${T},v1=`,
    `t=${T},v1=${A}0`,
    `t=${T},v1=${A.slice(1)}`,
    `t=${T},v1=${"g".repeat(64)}`,
    `t=${T},v1=0x${A.slice(2)}`,
    `t=+${T},v1=${A}`,
    `t=-1,v1=${A}`,
    `t=1.5,v1=${A}`,
    `t=1e9,v1=${A}`,
    `t=0x10,v1=${A}`,
    `t=${T} 1,v1=${A}`,
    `t=١٢٣,v1=${A}`,
    `t=${T};v1=${A}`,
    `t:${T},v1:${A}`,
    `t=${T},v1=${A},v1=${"z".repeat(64)}`,
    `t=${T},v1=${A}\u0000`,
  ])("rejects %j", (header) => {
    expect(parseSignatureHeader(header)).toBeUndefined();
  });
});
