import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sign } from "../src/sign.ts";
import { verify } from "../src/verify.ts";
import vector from "./signature-vector.json" with { type: "json" };

const SECRET = "whsec_unit_secret";
const NOW = 1_764_150_140;
const BODY = '{"id":"evt_1","type":"queue.consumer_left"}';

describe("the sender's published vector", () => {
  it("verifies", () => {
    expect(
      verify({
        payload: vector.rawBody,
        header: vector.header,
        secrets: [vector.secret],
        now: vector.timestamp,
      }),
    ).toEqual({
      ok: true,
      timestamp: vector.timestamp,
      secretIndex: 0,
    });
  });

  it("is reproduced exactly by sign", () => {
    expect(
      sign({ payload: vector.rawBody, secrets: vector.secret, timestamp: vector.timestamp }),
    ).toBe(vector.header);
  });

  it("verifies the raw bytes as a Buffer too", () => {
    const payload = Buffer.from(vector.rawBody);
    expect(
      verify({ payload, header: vector.header, secrets: [vector.secret], now: vector.timestamp })
        .ok,
    ).toBe(true);
  });
});

describe("timestamp tolerance", () => {
  const at = (skew: number) => sign({ payload: BODY, secrets: SECRET, timestamp: NOW + skew });
  it.each([-299, 299, -300, 300, 0])("accepts a skew of %i s", (skew) => {
    expect(verify({ payload: BODY, header: at(skew), secrets: [SECRET], now: NOW }).ok).toBe(true);
  });
  it.each([-301, 301, -86_400])("refuses a skew of %i s", (skew) => {
    expect(verify({ payload: BODY, header: at(skew), secrets: [SECRET], now: NOW })).toEqual({
      ok: false,
      reason: "timestamp_out_of_tolerance",
    });
  });
  it("honours a custom tolerance", () => {
    expect(
      verify({ payload: BODY, header: at(-61), secrets: [SECRET], now: NOW, toleranceSeconds: 60 })
        .ok,
    ).toBe(false);
    expect(
      verify({ payload: BODY, header: at(-60), secrets: [SECRET], now: NOW, toleranceSeconds: 60 })
        .ok,
    ).toBe(true);
  });
});

describe("rotation", () => {
  it("reports which configured secret matched", () => {
    const header = sign({ payload: BODY, secrets: "whsec_old", timestamp: NOW });
    expect(
      verify({ payload: BODY, header, secrets: ["whsec_new", "whsec_old"], now: NOW }),
    ).toMatchObject({ ok: true, secretIndex: 1 });
  });

  it("accepts a header with several v1 entries when any one matches", () => {
    const header = sign({ payload: BODY, secrets: ["whsec_unknown", SECRET], timestamp: NOW });
    expect(header.split("v1=")).toHaveLength(3);
    expect(verify({ payload: BODY, header, secrets: [SECRET], now: NOW }).ok).toBe(true);
  });

  it("ignores other schemes and spaces, and accepts a header repeated by a proxy", () => {
    const header = sign({ payload: BODY, secrets: SECRET, timestamp: NOW });
    const [t, v1] = header.split(",");
    expect(
      verify({ payload: BODY, header: `${t}, v0=abc, ${v1}, v2=zzz`, secrets: [SECRET], now: NOW })
        .ok,
    ).toBe(true);
    expect(
      verify({ payload: BODY, header: [header, header], secrets: [SECRET], now: NOW }).ok,
    ).toBe(true);
  });
});

describe("failures say why and never throw", () => {
  const valid = sign({ payload: BODY, secrets: SECRET, timestamp: NOW });
  const digest = valid.split("v1=")[1] ?? "";

  it.each([undefined, "", []])("missing header %j", (header) => {
    expect(verify({ payload: BODY, header, secrets: [SECRET], now: NOW })).toEqual({
      ok: false,
      reason: "missing_header",
    });
  });

  it.each([
    "garbage",
    "=",
    ",,,",
    `t=abc,v1=${digest}`,
    `t=${NOW}`,
    `v1=${digest}`,
    `t=${NOW},v1=${digest.slice(2)}`,
    `t=${NOW},v1=${digest.slice(1)}`,
    `t=${NOW},v1=${"zz".repeat(32)}`,
    `t=${NOW},t=${NOW + 1},v1=${digest}`,
    `t=-${NOW},v1=${digest}`,
    `t=${NOW},v1=${digest},${"x".repeat(10_000)}`,
    "t=☃,v1=💥",
  ])("malformed header %#", (header) => {
    expect(verify({ payload: BODY, header, secrets: [SECRET], now: NOW })).toEqual({
      ok: false,
      reason: "malformed_header",
    });
  });

  it("a wrong secret or a changed body does not match", () => {
    expect(verify({ payload: BODY, header: valid, secrets: ["whsec_other"], now: NOW })).toEqual({
      ok: false,
      reason: "no_matching_signature",
    });
    expect(verify({ payload: `${BODY} `, header: valid, secrets: [SECRET], now: NOW })).toEqual({
      ok: false,
      reason: "no_matching_signature",
    });
  });

  it("an empty secret list matches nothing", () => {
    expect(verify({ payload: BODY, header: valid, secrets: [], now: NOW }).ok).toBe(false);
  });

  it("random headers and bodies never throw", () => {
    for (let i = 0; i < 2_000; i += 1) {
      const header =
        i % 2 === 0
          ? randomBytes(i % 200).toString("latin1")
          : `t=${NOW},v1=${randomBytes(i % 40).toString("hex")}`;
      expect(() =>
        verify({ payload: randomBytes(i % 64), header, secrets: [SECRET], now: NOW }),
      ).not.toThrow();
    }
  });
});

describe("sign", () => {
  it("needs a secret", () => {
    expect(() => sign({ payload: BODY, secrets: [] })).toThrow(/at least one secret/);
  });
  it("defaults the timestamp to now", () => {
    const header = sign({ payload: BODY, secrets: SECRET });
    expect(verify({ payload: BODY, header, secrets: [SECRET] }).ok).toBe(true);
  });
});
