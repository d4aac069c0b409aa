import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { computeSignature, sign } from "../src/sign.ts";
import { DEFAULT_TOLERANCE_SECONDS, verify, type VerifyResult } from "../src/verify.ts";
import vector from "./signature-vector.json" with { type: "json" };
import { prng } from "@fanfare-relay/testing/prng";

const SECRET = "whsec_edge_secret";
const NOW = 1_764_150_140;
const BODY = '{"id":"evt_1","type":"queue.consumer_left","data":{"note":"café ☕"}}';

const check = (
  header: string | readonly string[] | undefined,
  payload: string | Uint8Array = BODY,
) => verify({ payload, header, secrets: [SECRET], now: NOW });

const fail = (reason: string) => ({ ok: false, reason });

describe("the published vector", () => {
  it("is HMAC-SHA256 over `<t>.<raw body>`, hex", () => {
    const expected = createHmac("sha256", vector.secret)
      .update(`${vector.timestamp}.${vector.rawBody}`)
      .digest("hex");
    expect(vector.header).toBe(`t=${vector.timestamp},v1=${expected}`);
    expect(computeSignature(vector.rawBody, vector.secret, vector.timestamp).toString("hex")).toBe(
      expected,
    );
  });

  it("verifies as a string, a Buffer and a plain Uint8Array, within the tolerance", () => {
    const bytes = Buffer.from(vector.rawBody, "utf8");
    for (const payload of [vector.rawBody, bytes, new Uint8Array(bytes)]) {
      for (const now of [vector.timestamp, vector.timestamp + 300, vector.timestamp - 300]) {
        expect(verify({ payload, header: vector.header, secrets: [vector.secret], now })).toEqual({
          ok: true,
          timestamp: vector.timestamp,
          secretIndex: 0,
        });
      }
    }
  });

  it("fails outside the tolerance and with any other secret", () => {
    const base = { payload: vector.rawBody, header: vector.header };
    expect(verify({ ...base, secrets: [vector.secret], now: vector.timestamp + 301 })).toEqual(
      fail("timestamp_out_of_tolerance"),
    );
    expect(verify({ ...base, secrets: [`${vector.secret}x`], now: vector.timestamp })).toEqual(
      fail("no_matching_signature"),
    );
  });
});

describe("tolerance", () => {
  const at = (timestamp: number) => sign({ payload: BODY, secrets: SECRET, timestamp });

  it("defaults to 300 s", () => {
    expect(DEFAULT_TOLERANCE_SECONDS).toBe(300);
  });

  it.each([
    [-301, "timestamp_out_of_tolerance"],
    [-300, "ok"],
    [-299, "ok"],
    [299, "ok"],
    [300, "ok"],
    [301, "timestamp_out_of_tolerance"],
  ])("a timestamp %i s from now is %s", (skew, expected) => {
    const result = check(at(NOW + skew));
    expect(result.ok ? "ok" : result.reason).toBe(expected);
  });

  it.each([
    [0, 0, true],
    [0, 1, false],
    [10, 10, true],
    [10, -11, false],
    [3600, -3600, true],
    [3600, 3601, false],
  ])("toleranceSeconds %i and a skew of %i s: ok is %s", (toleranceSeconds, skew, ok) => {
    expect(
      verify({
        payload: BODY,
        header: at(NOW + skew),
        secrets: [SECRET],
        now: NOW,
        toleranceSeconds,
      }).ok,
    ).toBe(ok);
  });

  it("is checked before the signature: a stale forged header says it is stale", () => {
    expect(check(at(NOW - 1000))).toEqual(fail("timestamp_out_of_tolerance"));
    expect(check(`t=${NOW - 1000},v1=${"0".repeat(64)}`)).toEqual(
      fail("timestamp_out_of_tolerance"),
    );
  });

  it("defaults now to the clock", () => {
    const header = sign({
      payload: BODY,
      secrets: SECRET,
      timestamp: Math.floor(Date.now() / 1000),
    });
    expect(verify({ payload: BODY, header, secrets: [SECRET] }).ok).toBe(true);
    const hourAgo = Math.floor(Date.now() / 1000) - 3600;
    const stale = sign({ payload: BODY, secrets: SECRET, timestamp: hourAgo });
    expect(verify({ payload: BODY, header: stale, secrets: [SECRET] })).toEqual(
      fail("timestamp_out_of_tolerance"),
    );
  });
});

describe("rotation", () => {
  const secrets = ["whsec_a", "whsec_b", "whsec_c"];

  it.each([0, 1, 2])("reports secretIndex %i for the secret that signed", (index) => {
    const header = sign({ payload: BODY, secrets: secrets[index] ?? "", timestamp: NOW });
    expect(verify({ payload: BODY, header, secrets, now: NOW })).toEqual({
      ok: true,
      timestamp: NOW,
      secretIndex: index,
    });
  });

  it("reports the first configured secret when several signed", () => {
    const header = sign({ payload: BODY, secrets: ["whsec_c", "whsec_b"], timestamp: NOW });
    expect(verify({ payload: BODY, header, secrets, now: NOW })).toMatchObject({ secretIndex: 1 });
  });

  it("finds the right v1 entry wherever it is, among wrong ones", () => {
    const right = computeSignature(BODY, SECRET, NOW).toString("hex");
    const wrong = computeSignature(BODY, "whsec_other", NOW).toString("hex");
    for (const entries of [
      [wrong, right],
      [right, wrong],
      [wrong, wrong, right, wrong],
    ]) {
      const header = `t=${NOW},${entries.map((hex) => `v1=${hex}`).join(",")}`;
      expect(check(header)).toMatchObject({ ok: true });
    }
    expect(check(`t=${NOW},v1=${wrong},v1=${wrong}`)).toEqual(fail("no_matching_signature"));
  });

  it("ignores v0 and unknown schemes whatever they hold", () => {
    const right = computeSignature(BODY, SECRET, NOW).toString("hex");
    expect(check(`t=${NOW},v0=${right},v1=${right},v9=${"☃".repeat(5)},x=`)).toMatchObject({
      ok: true,
    });
    expect(check(`t=${NOW},v0=${right}`)).toEqual(fail("malformed_header"));
  });

  it("accepts upper-case hex", () => {
    const right = computeSignature(BODY, SECRET, NOW).toString("hex").toUpperCase();
    expect(check(`t=${NOW},v1=${right}`).ok).toBe(true);
  });

  it("accepts a header repeated as string[], in parts or whole", () => {
    const header = sign({ payload: BODY, secrets: SECRET, timestamp: NOW });
    const other = sign({ payload: BODY, secrets: "whsec_other", timestamp: NOW });
    const [t, v1] = header.split(",");
    expect(check([header]).ok).toBe(true);
    expect(check([other, header]).ok).toBe(true);
    expect(check([t ?? "", v1 ?? ""]).ok).toBe(true);
    expect(check([other, other])).toEqual(fail("no_matching_signature"));
    const later = sign({ payload: BODY, secrets: SECRET, timestamp: NOW + 1 });
    expect(check([header, later])).toEqual(fail("malformed_header"));
  });

  it("matches nothing with no secrets, without throwing", () => {
    const header = sign({ payload: BODY, secrets: SECRET, timestamp: NOW });
    expect(verify({ payload: BODY, header, secrets: [], now: NOW })).toEqual(
      fail("no_matching_signature"),
    );
  });
});

describe("tampering", () => {
  const header = sign({ payload: BODY, secrets: SECRET, timestamp: NOW });
  const bytes = Buffer.from(BODY, "utf8");

  it("any single flipped bit of the body fails", () => {
    for (let i = 0; i < bytes.length; i += 1) {
      const changed = Buffer.from(bytes);
      changed[i] = (changed[i] ?? 0) ^ (1 << (i % 8));
      expect(check(header, changed)).toEqual(fail("no_matching_signature"));
    }
  });

  it("a body one byte longer or shorter fails", () => {
    expect(check(header, Buffer.concat([bytes, Buffer.from(" ")]))).toEqual(
      fail("no_matching_signature"),
    );
    expect(check(header, bytes.subarray(0, -1))).toEqual(fail("no_matching_signature"));
    expect(check(header, "")).toEqual(fail("no_matching_signature"));
  });

  it("the same text in another encoding fails: the raw bytes are what is signed", () => {
    expect(check(header, Buffer.from(BODY, "latin1"))).toEqual(fail("no_matching_signature"));
    expect(check(header, Buffer.from(BODY, "utf8")).ok).toBe(true);
  });

  it("moving the timestamp, even within the tolerance, fails", () => {
    const digest = header.split("v1=")[1] ?? "";
    for (const t of [NOW - 1, NOW + 1, NOW + 60]) {
      expect(check(`t=${t},v1=${digest}`)).toEqual(fail("no_matching_signature"));
    }
  });

  it("a flipped digit of the digest fails", () => {
    const digest = header.split("v1=")[1] ?? "";
    for (let i = 0; i < digest.length; i += 1) {
      const c = digest[i] === "0" ? "1" : "0";
      const changed = `${digest.slice(0, i)}${c}${digest.slice(i + 1)}`;
      expect(check(`t=${NOW},v1=${changed}`)).toEqual(fail("no_matching_signature"));
    }
  });
});

describe("fault: hostile signature headers: a reason, never an exception", () => {
  const valid = sign({ payload: BODY, secrets: SECRET, timestamp: NOW });
  const digest = valid.split("v1=")[1] ?? "";
  const reasons = [
    "missing_header",
    "malformed_header",
    "timestamp_out_of_tolerance",
    "no_matching_signature",
  ];
  const safely = (run: () => VerifyResult): VerifyResult => {
    let result: VerifyResult | undefined;
    expect(() => (result = run())).not.toThrow();
    if (!result) throw new Error("no result");
    if (!result.ok) expect(reasons).toContain(result.reason);
    return result;
  };

  it.each([
    ["undefined", undefined],
    ["an empty string", ""],
    ["an empty array", []],
  ])("%s is a missing header", (_label, header) => {
    expect(check(header)).toEqual(fail("missing_header"));
  });

  it.each([
    ["garbage", "garbage"],
    ["a lone =", "="],
    ["commas only", ",,,"],
    ["whitespace only", "   "],
    ["a non-numeric t", `t=abc,v1=${digest}`],
    ["an empty t", `t=,v1=${digest}`],
    ["a v1 of 62 hex digits", `t=${NOW},v1=${digest.slice(2)}`],
    ["a v1 of 66 hex digits", `t=${NOW},v1=${digest}ab`],
    ["a v1 of odd length", `t=${NOW},v1=${digest.slice(1)}`],
    ["a non-hex v1", `t=${NOW},v1=${"zz".repeat(32)}`],
    ["a base64 v1", `t=${NOW},v1=${Buffer.from(digest, "hex").toString("base64")}`],
    ["no v1", `t=${NOW}`],
    ["no t", `v1=${digest}`],
    ["two different t", `t=${NOW},t=${NOW + 1},v1=${digest}`],
    ["a 10 kB header", `t=${NOW},v1=${digest},v0=${"a".repeat(10_000)}`],
    ["a 10 kB header of v1 entries", `t=${NOW}${`,v1=${digest}`.repeat(150)}`],
    ["unicode junk", "t=☃,v1=💥"],
    ["a lone surrogate", `t=${NOW},v1=\ud800${digest.slice(1)}`],
    ["control characters", `t=${NOW}\r\n,v1=${digest}\u0000`],
    ["a JSON object", JSON.stringify({ t: NOW, v1: digest })],
    ["an empty header among repeats", ["", valid]],
  ])("%s is malformed", (_label, header) => {
    expect(safely(() => check(header))).toEqual(fail("malformed_header"));
  });

  it("a well-formed header signed with another secret does not match", () => {
    const header = sign({ payload: BODY, secrets: "whsec_attacker", timestamp: NOW });
    expect(check(header)).toEqual(fail("no_matching_signature"));
  });

  it("random strings and bytes, as header and body, never throw", () => {
    const random = prng(0xfa4fa4e);
    const alphabet = [
      "t",
      "v",
      "1",
      "0",
      "=",
      ",",
      " ",
      "a",
      "f",
      "-",
      ".",
      "\u0000",
      "☃",
      "\ud800",
    ];
    for (let i = 0; i < 3_000; i += 1) {
      const length = Math.floor(random() * 120);
      let header = "";
      switch (i % 4) {
        case 0:
          header = randomBytes(length).toString("latin1");
          break;
        case 1:
          for (let j = 0; j < length; j += 1) {
            header += alphabet[Math.floor(random() * alphabet.length)] ?? "";
          }
          break;
        case 2:
          header = String.fromCharCode(
            ...Array.from({ length }, () => Math.floor(random() * 0x10000)),
          );
          break;
        case 3:
          header = `t=${Math.floor(random() * 2 * NOW)},v1=${randomBytes(32).toString("hex")}`;
          break;
      }
      const payload = i % 2 === 0 ? randomBytes(length) : header;
      const result = safely(() => check(i % 5 === 0 ? [header, header] : header, payload));
      expect(result.ok).toBe(false);
    }
  });

  it("single-character edits of a valid header never throw, and only spacing survives", () => {
    const random = prng(42);
    const alphabet = "t=v1,0af9 xz☃";
    for (let i = 0; i < 3_000; i += 1) {
      const at = Math.floor(random() * (valid.length + 1));
      const c = alphabet[Math.floor(random() * alphabet.length)] ?? "";
      const edits = [
        valid.slice(0, at) + c + valid.slice(at),
        valid.slice(0, at) + valid.slice(at + 1),
        valid.slice(0, at) + c + valid.slice(at + 1),
      ];
      for (const header of edits) {
        // A space around a part is tolerated; any other edit that verifies changed nothing.
        if (safely(() => check(header)).ok) expect(header.replaceAll(" ", "")).toBe(valid);
      }
    }
  });

  it("hostile secrets and payload types do not throw either", () => {
    for (const secrets of [[""], ["☃"], ["\ud800"], ["x".repeat(100_000)]]) {
      safely(() => verify({ payload: BODY, header: valid, secrets, now: NOW }));
    }
    safely(() =>
      verify({ payload: new Uint8Array(0), header: valid, secrets: [SECRET], now: NOW }),
    );
    safely(() =>
      verify({ payload: randomBytes(1 << 20), header: valid, secrets: [SECRET], now: NOW }),
    );
  });
});
