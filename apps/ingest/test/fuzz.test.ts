import { sign } from "@fanfare-relay/signature/sign";
import fc from "fast-check";
import type { InjectOptions, LightMyRequestResponse as InjectResponse } from "fastify";
import { METHODS } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, nowSeconds, SECRET, uniqueEvent, type Harness } from "./helpers.ts";

// Short enough for CI: a few hundred requests per property, a few seconds in all.
const RUNS = 150;

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.close();
});

function signed(payload: string | Buffer, contentType = "application/json"): InjectOptions {
  return {
    method: "POST",
    url: "/webhooks/fanfare",
    headers: {
      "content-type": contentType,
      "x-fanfare-signature": sign({ payload, secrets: SECRET, timestamp: nowSeconds() }),
    },
    payload,
  };
}

/** No 5xx for anything a client can send, and every error in the `{error, code}` shape. */
function expectClientSafe(response: InjectResponse, method = "POST"): void {
  expect(response.statusCode, response.body).toBeLessThan(500);
  if (response.statusCode < 400 || method === "HEAD") return;
  const body = response.json<Record<string, unknown>>();
  expect(typeof body.error, response.body).toBe("string");
  expect(body.code, response.body).toMatch(/^INGEST_[A-Z_]+$/);
  expect(response.body).not.toMatch(/at .*\.ts:\d+/);
}

async function check(request: InjectOptions): Promise<void> {
  expectClientSafe(await h.app.inject(request), request.method);
}

/** JSON text to splice into a body as it is. */
class RawJson {
  constructor(readonly text: string) {}
  toString(): string {
    return `RawJson(${this.text.length} chars)`;
  }
}
const RAW_MARKER = "__raw_json_marker__";

/** A valid event with one field replaced, added or removed, at the top level or in data. */
const mutatedEvent = fc
  .record({
    field: fc.constantFrom(
      "id",
      "type",
      "created",
      "organizationId",
      "experienceId",
      "data",
      "extra",
    ),
    inData: fc.boolean(),
    value: fc.oneof(
      fc.jsonValue(),
      // Nesting from harmless to far past the limit (BullMQ's serialiser overflowed on 10,000;
      // so would JSON.stringify here, hence raw text spliced in below).
      fc
        .integer({ min: 1, max: 12_000 })
        .map((depth) => new RawJson(`${"[".repeat(depth)}${"]".repeat(depth)}`)),
      fc.string({ unit: "binary" }),
      fc.constantFrom(
        undefined,
        10_000_000_000_000,
        -1,
        1.5,
        1e308,
        "",
        "\u0000",
        "\ud800",
        "x".repeat(300),
        "queue.consumer_entered",
        "loyalty.points_awarded",
        "meta",
        "12345",
        "a:b",
      ),
    ),
  })
  .map(({ field, inData, value }) => {
    const event: Record<string, unknown> = { ...uniqueEvent() };
    const placed = value instanceof RawJson ? RAW_MARKER : value;
    if (inData) event.data = { ...(event.data as object), [field]: placed };
    else event[field] = placed;
    const body = JSON.stringify(event);
    return value instanceof RawJson ? body.replace(`"${RAW_MARKER}"`, value.text) : body;
  });

const oddMethods = METHODS.filter((method) => method !== "CONNECT");

describe("guarantee: no client input makes the ingest answer 5xx; every error is {error, code}", () => {
  it(`${RUNS} signed arbitrary byte and text bodies → each < 500, errors {error, code}`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
          fc.string({ unit: "binary", maxLength: 200 }),
        ),
        async (payload) => {
          await check(signed(payload));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it(`${RUNS} signed arbitrary JSON values → each < 500, errors {error, code}`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (value) => {
        await check(signed(JSON.stringify(value)));
      }),
      { numRuns: RUNS },
    );
  });

  it(`${RUNS * 2} signed valid events with one field mutated (any JSON, nesting up to 12,000, NUL, lone surrogates, huge numbers, odd ids) → each < 500, errors {error, code}`, async () => {
    await fc.assert(
      fc.asyncProperty(mutatedEvent, async (body) => {
        await check(signed(body));
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it(`${RUNS} requests with odd methods, paths, headers and content types → each < 500, errors {error, code}`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...oddMethods),
        fc.oneof(
          fc.constantFrom(
            "/webhooks/fanfare",
            "/webhooks/fanfare/",
            "/webhooks/fanfare?x=1",
            "/readyz",
            "/healthz",
            "/metrics",
            "/",
            "//webhooks//fanfare",
            "/%",
            "/%zz",
            "/webhooks/%E0%A4%A",
          ),
          // A request line always has a path, at least "/".
          fc.webPath().map((path) => (path.startsWith("/") ? path : `/${path}`)),
        ),
        fc.dictionary(
          fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/),
          fc.string({ maxLength: 40 }).map((value) => value.replace(/[^\x20-\x7e]/g, "")),
          { maxKeys: 4 },
        ),
        fc.option(
          fc.constantFrom(
            "application/json",
            "application/json; charset=latin1",
            "APPLICATION/JSON",
            "application/json;;",
            "text/plain",
            "multipart/form-data; boundary=x",
            "application/x-www-form-urlencoded",
            "application/octet-stream",
            "",
            ";",
          ),
        ),
        fc.option(fc.string({ maxLength: 100 })),
        async (method, url, headers, contentType, payload) => {
          const request: InjectOptions = {
            method,
            url,
            headers: {
              ...headers,
              ...(contentType === null ? {} : { "content-type": contentType }),
            },
            ...(payload === null || method === "GET" || method === "HEAD" ? {} : { payload }),
          };
          await check(request);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
