import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, signedDelivery, uniqueEvent, type Harness } from "./helpers.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.close();
});

async function jobOf(id: string) {
  return h.producer.queues.get("fanfare-queue")?.getJob(id);
}

describe("guarantee: a signed event the system could not store or process is refused at the door with 400, never stored", () => {
  it('1 signed event with "created": 10000000000000 (milliseconds) → 400 INGEST_INVALID_ENVELOPE naming `created`, no job', async () => {
    const event = uniqueEvent({ created: 10_000_000_000_000 });
    const response = await h.app.inject(signedDelivery(event));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: "INGEST_INVALID_ENVELOPE" });
    expect(response.json<{ issues: { path: string }[] }>().issues.map((i) => i.path)).toContain(
      "created",
    );
    expect(await jobOf(event.id)).toBeUndefined();
  });

  it("signed events with NUL (\\u0000) in organizationId, in data and in an extra field → each 400 INGEST_INVALID_ENVELOPE naming the field, no job", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ organizationId: "org\u0000" }, "organizationId"],
      [{ data: { consumerId: "con\u0000", position: 1 } }, "data.consumerId"],
      [{ note: ["x", "\u0000"] }, "note.1"],
    ];
    for (const [patch, path] of cases) {
      const event = { ...uniqueEvent(), ...patch };
      const response = await h.app.inject(signedDelivery(event));
      expect(response.statusCode, path).toBe(400);
      expect(response.json()).toMatchObject({
        code: "INGEST_INVALID_ENVELOPE",
        issues: [{ path }],
      });
      expect(await jobOf(event.id)).toBeUndefined();
    }
  });

  it("1 signed body nested 10,000 levels deep in data → 400 INGEST_INVALID_ENVELOPE (was a 503 on every redelivery), no job; 32 levels in all (the limit) → 200", async () => {
    const event = uniqueEvent();
    const deep = `${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`;
    const body = JSON.stringify(event).replace(/"data":\{/, `"data":{"deep":${deep},`);
    const response = await h.app.inject(signedDelivery(body));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: "INGEST_INVALID_ENVELOPE" });
    expect(response.json<{ issues: { path: string }[] }>().issues[0]?.path).toMatch(
      /^data\.deep(\.a)+$/,
    );
    expect(await jobOf(event.id)).toBeUndefined();

    const fine = uniqueEvent();
    const levels30 = `${'{"a":'.repeat(29)}{}${"}".repeat(29)}`;
    const ok = JSON.stringify(fine).replace(/"data":\{/, `"data":{"deep":${levels30},`);
    expect((await h.app.inject(signedDelivery(ok))).statusCode).toBe(200);
  });
});
