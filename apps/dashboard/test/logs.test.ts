import { createLogger } from "@fanfare-relay/logging/logger";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "../src/auth/session.ts";
import { ADMIN, createDashboard, type DashboardHarness } from "./helpers.ts";

const lines: Record<string, unknown>[] = [];
let d: DashboardHarness;

beforeAll(async () => {
  const logger = createLogger(
    "dashboard",
    "trace",
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString().split("\n")) {
          if (line.trim() !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
        }
        callback();
      },
    }),
  );
  d = await createDashboard({ logger });
});
afterAll(async () => {
  await d.close();
});

describe("logs", () => {
  it("record logins and operators' actions, never a password or a cookie, even at trace", async () => {
    const bad = await d.app.inject({
      method: "POST",
      url: "/login",
      payload: { username: "typed-password-here", password: "wrong-guess-123" },
    });
    expect(bad.statusCode).toBe(401);
    const cookies = await d.login();
    for (const action of ["pause", "resume"]) {
      const response = await d.app.inject({
        method: "PUT",
        url: `/api/queues/fanfare-unrouted/${action}`,
        cookies,
      });
      expect(response.statusCode).toBe(200);
    }
    await d.app.inject({ method: "POST", url: "/logout", cookies });

    expect(lines).toContainEqual(
      expect.objectContaining({ msg: "logged in", user: ADMIN.username, role: "admin" }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ msg: "login failed", ip: "127.0.0.1" }));
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: "dashboard action",
        user: ADMIN.username,
        method: "PUT",
        route: "/api/queues/:queueName/pause",
        params: { queueName: "fanfare-unrouted" },
        status: 200,
      }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ msg: "logged out" }));

    const all = JSON.stringify(lines);
    for (const secret of [
      ADMIN.password,
      "wrong-guess-123",
      "typed-password-here",
      cookies[SESSION_COOKIE] ?? "no cookie",
      SESSION_COOKIE,
    ]) {
      expect(all).not.toContain(secret);
    }
  });
});
