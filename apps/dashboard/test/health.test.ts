import { freePort } from "@fanfare-relay/testing/free-port";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN, createDashboard, type DashboardHarness } from "./helpers.ts";

describe("GET /healthz", () => {
  let up: DashboardHarness;
  let down: DashboardHarness;
  beforeAll(async () => {
    up = await createDashboard();
    // Nothing listens there: Redis is "down" from the first moment.
    down = await createDashboard({ redisUrl: `redis://127.0.0.1:${await freePort()}` });
  });
  afterAll(async () => {
    await up.close();
    await down.close();
  });

  it("answers 200 without a session while Redis answers", async () => {
    const response = await up.app.inject({ url: "/healthz" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: "ok" });
  });

  it("answers 503 when Redis does not", async () => {
    const response = await down.app.inject({ url: "/healthz" });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ status: "redis_unavailable" });
  });

  it("without Redis, a login is refused with 503, not let through unlimited", async () => {
    const response = await down.app.inject({ method: "POST", url: "/login", payload: ADMIN });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ code: "DASHBOARD_UNAVAILABLE" });
    expect(response.headers["retry-after"]).toBe("5");
  });
});
