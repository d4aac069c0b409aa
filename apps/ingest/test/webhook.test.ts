import { fixtureEvents } from "@fanfare-relay/events/fixtures";
import { eventCatalogue, isEventType } from "@fanfare-relay/events/catalogue";
import { jobIdForEvent } from "@fanfare-relay/queues/job-id";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import vector from "../../../packages/signature/test/signature-vector.json" with { type: "json" };
import {
  createHarness,
  nowSeconds,
  OLD_SECRET,
  SECRET,
  signedDelivery,
  uniqueEvent,
  type Harness,
} from "./helpers.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.close();
});

function queue(name: string) {
  const found = h.producer.queues.get(name as never);
  if (!found) throw new Error(`no queue ${name}`);
  return found;
}

async function jobCount(queueName: string): Promise<number> {
  const counts = await queue(queueName).getJobCounts(
    "wait",
    "delayed",
    "active",
    "completed",
    "failed",
  );
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

describe("POST /webhooks/fanfare: accepted deliveries", () => {
  it("answers 200 only once the job is in Redis, on the family queue, named by type", async () => {
    const event = uniqueEvent({
      type: "draw.entry_created",
      data: {
        drawId: "d",
        experienceId: "e",
        consumerId: "c",
        entryNumber: 1,
        createdAt: "2025-11-26T10:03:20.000Z",
      },
    });
    const response = await h.app.inject(signedDelivery(event));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ received: true });
    const job = await queue("fanfare-draw").getJob(jobIdForEvent(event.id));
    expect(job?.name).toBe("draw.entry_created");
    expect(job?.data).toEqual(event);
  });

  it("puts every fixture in its family's queue", async () => {
    for (const fixture of fixtureEvents) {
      // Fixture ids are shared with other suites; re-id them to keep this test independent.
      const event = {
        ...fixture,
        id: `${fixture.id}_${nowSeconds()}_${Math.random()}`.replace(".", ""),
      };
      const response = await h.app.inject(signedDelivery(event));
      expect(response.statusCode, fixture.type).toBe(200);
      expect(isEventType(event.type)).toBe(true);
      if (!isEventType(event.type)) continue;
      const job = await queue(eventCatalogue[event.type].queueName).getJob(jobIdForEvent(event.id));
      expect(job?.name).toBe(fixture.type);
      expect(job?.data).toEqual(event);
    }
  });

  it("keeps unknown envelope fields in the job", async () => {
    const event = { ...uniqueEvent(), livemode: true, apiVersion: "2025-11-01" };
    expect((await h.app.inject(signedDelivery(event))).statusCode).toBe(200);
    const job = await queue("fanfare-queue").getJob(jobIdForEvent(event.id));
    expect(job?.data).toMatchObject({ livemode: true, apiVersion: "2025-11-01" });
  });

  it("answers duplicate:true for the same event id and stores no second job", async () => {
    const event = uniqueEvent();
    const before = await jobCount("fanfare-queue");
    expect((await h.app.inject(signedDelivery(event))).json()).toEqual({ received: true });
    const again = await h.app.inject(signedDelivery(event, { timestamp: nowSeconds() - 30 }));
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ received: true, duplicate: true });
    expect(await jobCount("fanfare-queue")).toBe(before + 1);
  });

  it("stores 100 concurrent deliveries of one event as one job, over real HTTP", async () => {
    const address = await h.app.listen({ port: 0, host: "127.0.0.1" });
    const event = uniqueEvent({ type: "auction.outbid" });
    const delivery = signedDelivery(event);
    const before = await jobCount("fanfare-auction");
    const responses = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const response = await fetch(`${address}${delivery.url}`, {
          method: "POST",
          headers: delivery.headers,
          body: delivery.payload,
        });
        return {
          status: response.status,
          body: (await response.json()) as { duplicate?: boolean },
        };
      }),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(responses.filter((r) => r.body.duplicate !== true)).toHaveLength(1);
    expect(await jobCount("fanfare-auction")).toBe(before + 1);
  });

  it("accepts any id the sender may use, digits and colons included, and still dedupes", async () => {
    for (const id of [
      "1234567890",
      "0",
      "meta",
      "wait",
      "evt:2025:11:26:abc",
      "~tilde",
      "with space/and%percent",
      "évènement",
    ]) {
      const event = uniqueEvent({ id: id });
      const first = await h.app.inject(signedDelivery(event));
      expect(first.json(), id).toEqual({ received: true });
      const second = await h.app.inject(signedDelivery(event));
      expect(second.json(), id).toEqual({ received: true, duplicate: true });
      const job = await queue("fanfare-queue").getJob(jobIdForEvent(id));
      expect(job?.data.id).toBe(id);
      await job?.remove();
      await h.app.inject(signedDelivery(uniqueEvent()));
    }
  });

  it("keeps a signed event of unknown type in fanfare-unrouted", async () => {
    const event = uniqueEvent({ type: "loyalty.points_awarded", data: { points: 5 } });
    const response = await h.app.inject(signedDelivery(event));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ received: true });
    const job = await queue("fanfare-unrouted").getJob(jobIdForEvent(event.id));
    expect(job?.name).toBe("loyalty.points_awarded");
  });

  it("counts accepted, duplicate and unrouted deliveries, duplicates and enqueue times per queue, the same on every scrape", async () => {
    const mh = await createHarness();
    try {
      const event = uniqueEvent();
      for (const delivery of [event, event, uniqueEvent(), uniqueEvent({ type: "x.unknown" })]) {
        expect((await mh.app.inject(signedDelivery(delivery))).statusCode).toBe(200);
      }
      expect((await mh.app.inject({ ...signedDelivery(event), payload: "{}" })).statusCode).toBe(
        401,
      );
      for (let scrape = 0; scrape < 2; scrape++) {
        const { body } = await mh.app.inject({ method: "GET", url: "/metrics" });
        for (const line of [
          'fanfare_ingest_requests_total{outcome="accepted"} 2',
          'fanfare_ingest_requests_total{outcome="duplicate"} 1',
          'fanfare_ingest_requests_total{outcome="unrouted"} 1',
          'fanfare_ingest_requests_total{outcome="unauthorized"} 1',
          'fanfare_ingest_duplicates_total{queue="fanfare-queue"} 1',
          'fanfare_ingest_signature_secret_matches_total{secret_index="0"} 4',
          'fanfare_ingest_enqueue_duration_seconds_count{queue="fanfare-queue"} 3',
          'fanfare_ingest_enqueue_duration_seconds_count{queue="fanfare-unrouted"} 1',
        ]) {
          expect(body).toContain(line);
        }
      }
    } finally {
      await mh.close();
    }
  });

  it("does not validate data at the door: a bad payload of a known type is queued for the worker to dead-letter", async () => {
    const event = uniqueEvent({ type: "auction.bid_placed", data: { amount: "lots" } });
    expect((await h.app.inject(signedDelivery(event))).statusCode).toBe(200);
  });

  it("accepts a charset parameter on the content type", async () => {
    const delivery = signedDelivery(uniqueEvent(), {
      contentType: "application/json; charset=utf-8",
    });
    expect((await h.app.inject(delivery)).statusCode).toBe(200);
  });
});

describe("POST /webhooks/fanfare: signatures", () => {
  it("verifies the sender's published vector", async () => {
    const vh = await createHarness({ secrets: [vector.secret], now: () => vector.timestamp });
    try {
      const response = await vh.app.inject({
        method: "POST",
        url: "/webhooks/fanfare",
        headers: { "content-type": "application/json", "x-fanfare-signature": vector.header },
        payload: vector.rawBody,
      });
      expect(response.statusCode).toBe(200);
      const job = await vh.producer.queues.get("fanfare-queue")?.getJob("evt_01HZ0005QUEUECONSU");
      expect(job?.name).toBe("queue.consumer_admitted");
    } finally {
      await vh.close();
    }
  });

  it("accepts any configured secret during rotation and counts which one matched", async () => {
    const rh = await createHarness({ secrets: [SECRET, OLD_SECRET] });
    try {
      expect(
        (await rh.app.inject(signedDelivery(uniqueEvent(), { secrets: OLD_SECRET }))).statusCode,
      ).toBe(200);
      expect(
        (await rh.app.inject(signedDelivery(uniqueEvent(), { secrets: SECRET }))).statusCode,
      ).toBe(200);
      // A sender mid-rotation signs with both: one v1 per secret.
      expect(
        (
          await rh.app.inject(
            signedDelivery(uniqueEvent(), { secrets: ["whsec_other", OLD_SECRET] }),
          )
        ).statusCode,
      ).toBe(200);
      const metrics = await rh.app.inject({ method: "GET", url: "/metrics" });
      expect(metrics.body).toContain(
        'fanfare_ingest_signature_secret_matches_total{secret_index="0"} 1',
      );
      expect(metrics.body).toContain(
        'fanfare_ingest_signature_secret_matches_total{secret_index="1"} 2',
      );
    } finally {
      await rh.close();
    }
  });

  it.each([
    ["299 s in the past", -299, 200],
    ["299 s in the future", 299, 200],
    ["301 s in the past", -301, 401],
    ["301 s in the future", 301, 401],
  ])("clock skew of %s answers %i", async (_label, skew, status) => {
    const response = await h.app.inject(
      signedDelivery(uniqueEvent(), { timestamp: nowSeconds() + skew }),
    );
    expect(response.statusCode).toBe(status);
    if (status === 401)
      expect(response.json()).toMatchObject({ code: "INGEST_TIMESTAMP_OUT_OF_TOLERANCE" });
  });

  it.each([
    ["missing", undefined, "INGEST_MISSING_SIGNATURE"],
    ["empty", "", "INGEST_MISSING_SIGNATURE"],
    ["garbage", "not a signature", "INGEST_MALFORMED_SIGNATURE"],
    ["without v1", `t=${nowSeconds()}`, "INGEST_MALFORMED_SIGNATURE"],
    ["short digest", `t=${nowSeconds()},v1=abc123`, "INGEST_MALFORMED_SIGNATURE"],
    ["wrong digest", `t=${nowSeconds()},v1=${"0".repeat(64)}`, "INGEST_BAD_SIGNATURE"],
  ])("rejects a %s signature with 401 and enqueues nothing", async (_label, header, code) => {
    const event = uniqueEvent();
    const delivery = signedDelivery(event);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (header !== undefined) headers["x-fanfare-signature"] = header;
    const response = await h.app.inject({ ...delivery, headers });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ error: expect.any(String), code });
    expect(await queue("fanfare-queue").getJob(jobIdForEvent(event.id))).toBeUndefined();
  });

  it("rejects a body changed after signing", async () => {
    const event = uniqueEvent();
    const delivery = signedDelivery(event);
    const tampered = delivery.payload.replace('"position":7', '"position":1');
    const response = await h.app.inject({ ...delivery, payload: tampered });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ code: "INGEST_BAD_SIGNATURE" });
  });

  it("verifies the raw bytes, not a re-serialisation of them", async () => {
    const event = uniqueEvent();
    const spaced = JSON.stringify(event, null, 2);
    const response = await h.app.inject(signedDelivery(spaced));
    expect(response.statusCode).toBe(200);
  });

  it("checks the signature before the body: an unsigned non-JSON body is a 401", async () => {
    const response = await h.app.inject({
      method: "POST",
      url: "/webhooks/fanfare",
      headers: { "content-type": "application/json" },
      payload: "{not json",
    });
    expect(response.statusCode).toBe(401);
  });
});

describe("POST /webhooks/fanfare: client mistakes", () => {
  it.each([
    ["not JSON", "{not json", "INGEST_INVALID_JSON"],
    ["empty", "", "INGEST_INVALID_JSON"],
    ["a JSON array", "[1,2]", "INGEST_INVALID_ENVELOPE"],
    [
      "missing id",
      JSON.stringify({ type: "queue.consumer_left", created: 1, organizationId: "o", data: {} }),
      "INGEST_INVALID_ENVELOPE",
    ],
    [
      "created in a string",
      JSON.stringify({ ...uniqueEvent(), created: "yesterday" }),
      "INGEST_INVALID_ENVELOPE",
    ],
    [
      "a __proto__ key",
      `{"id":"evt_p","type":"queue.consumer_left","created":1,"organizationId":"o","data":{"__proto__":{"admin":true}}}`,
      "INGEST_FORBIDDEN_KEY",
    ],
    [
      "a constructor.prototype key",
      `{"id":"evt_c","type":"queue.consumer_left","created":1,"organizationId":"o","data":{"constructor":{"prototype":{"admin":true}}}}`,
      "INGEST_FORBIDDEN_KEY",
    ],
  ])("answers 400 for a signed body that is %s", async (_label, body, code) => {
    const response = await h.app.inject(signedDelivery(body));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code, error: expect.any(String) });
    expect(response.body).not.toMatch(/at .*\.ts:\d+/);
  });

  it("says which envelope fields are wrong, without echoing values", async () => {
    const response = await h.app.inject(
      signedDelivery({ ...uniqueEvent(), created: -5, organizationId: "" }),
    );
    const body = response.json<{ issues: { path: string; message: string }[] }>();
    expect(body.issues.map((issue) => issue.path).sort()).toEqual(["created", "organizationId"]);
  });

  it("answers 400 for a signed body that is not UTF-8", async () => {
    const delivery = signedDelivery(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString("latin1"));
    const raw = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const { sign } = await import("@fanfare-relay/signature/sign");
    const response = await h.app.inject({
      ...delivery,
      headers: {
        ...delivery.headers,
        "x-fanfare-signature": sign({ payload: raw, secrets: SECRET }),
      },
      payload: raw,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: "INGEST_INVALID_JSON" });
  });

  it("answers 413 for a body over the limit, from Content-Length alone", async () => {
    const small = await createHarness({ bodyLimitBytes: 2048 });
    try {
      const big = signedDelivery({ ...uniqueEvent(), padding: "x".repeat(4096) });
      const response = await small.app.inject(big);
      expect(response.statusCode).toBe(413);
      expect(response.json()).toMatchObject({ code: "INGEST_BODY_TOO_LARGE" });
    } finally {
      await small.close();
    }
  });

  it("answers 413 without reading a large streamed body to the end", async () => {
    const small = await createHarness({ bodyLimitBytes: 2048 });
    try {
      const address = await small.app.listen({ port: 0, host: "127.0.0.1" });
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= 64 * 1024 * 1024) {
            controller.close();
            return;
          }
          sent += 64 * 1024;
          controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
        },
      });
      const response = await fetch(`${address}/webhooks/fanfare`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-fanfare-signature": "t=1,v1=00" },
        body,
        duplex: "half",
      }).catch((error: unknown) => error);
      // The server answers 413 and drops the connection long before 64 MiB has been sent.
      if (response instanceof Response) expect(response.status).toBe(413);
      expect(sent).toBeLessThan(64 * 1024 * 1024);
    } finally {
      await small.close();
    }
  });

  it.each([
    ["text/plain", "text/plain"],
    ["form data", "application/x-www-form-urlencoded"],
  ])("answers 415 for %s", async (_label, contentType) => {
    const response = await h.app.inject(signedDelivery(uniqueEvent(), { contentType }));
    expect(response.statusCode).toBe(415);
    expect(response.json()).toMatchObject({ code: "INGEST_UNSUPPORTED_MEDIA_TYPE" });
  });

  it("answers 415 when the content type is missing", async () => {
    const delivery = signedDelivery(uniqueEvent());
    const { "content-type": _omit, ...headers } = delivery.headers;
    const response = await h.app.inject({ ...delivery, headers });
    expect(response.statusCode).toBe(415);
  });

  it.each(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"] as const)(
    "answers 405 with Allow: POST to %s",
    async (method) => {
      const response = await h.app.inject({ method, url: "/webhooks/fanfare" });
      expect(response.statusCode).toBe(405);
      expect(response.headers.allow).toBe("POST");
      if (method !== "HEAD")
        expect(response.json()).toMatchObject({ code: "INGEST_METHOD_NOT_ALLOWED" });
    },
  );

  it("answers 404 in the same JSON shape for unknown paths", async () => {
    const response = await h.app.inject({ method: "POST", url: "/webhooks/other" });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: "not found", code: "INGEST_NOT_FOUND" });
  });
});

describe("health and metrics", () => {
  it("is alive and ready when Redis answers", async () => {
    expect((await h.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    const ready = await h.app.inject({ method: "GET", url: "/readyz" });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: "ready" });
  });

  it("exposes requests by outcome, enqueue latency and duplicates in Prometheus format", async () => {
    const response = await h.app.inject({ method: "GET", url: "/metrics" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toContain("text/plain");
    expect(response.body).toMatch(/fanfare_ingest_requests_total\{outcome="accepted"\} [1-9]/);
    expect(response.body).toMatch(/fanfare_ingest_requests_total\{outcome="duplicate"\} [1-9]/);
    expect(response.body).toMatch(/fanfare_ingest_requests_total\{outcome="unauthorized"\} [1-9]/);
    expect(response.body).toMatch(
      /fanfare_ingest_enqueue_duration_seconds_count\{queue="fanfare-queue"\} [1-9]/,
    );
    expect(response.body).toMatch(/fanfare_ingest_duplicates_total\{queue="fanfare-queue"\} [1-9]/);
  });

  it("fails readiness while draining, and keeps accepting in-flight work", async () => {
    const dh = await createHarness();
    try {
      dh.app.startDraining();
      expect((await dh.app.inject({ method: "GET", url: "/readyz" })).json()).toEqual({
        status: "draining",
      });
      expect((await dh.app.inject(signedDelivery(uniqueEvent()))).statusCode).toBe(200);
    } finally {
      await dh.close();
    }
  });
});
