import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "../src/auth/session.ts";
import { ADMIN, createDashboard, VIEWER, type DashboardHarness } from "./helpers.ts";

let d: DashboardHarness;
beforeAll(async () => {
  d = await createDashboard();
});
afterAll(async () => {
  await d.close();
});

const html = { accept: "text/html,application/xhtml+xml" };

describe("without a session", () => {
  it.each([
    ["/", "Bull Board's UI"],
    ["/queue/fanfare-queue", "a queue page"],
    ["/queue/fanfare-queue/evt_1", "a job page"],
    ["/dead-letters", "the dead-letter view"],
    ["/logout", "the logout page"],
    ["/no-such-page", "an unknown page"],
  ])("a browser asking for %s (%s) gets the login page with 401", async (url) => {
    const response = await d.app.inject({ url, headers: html });
    expect(response.statusCode).toBe(401);
    expect(response.headers["content-type"]).toContain("text/html");
    expect(response.body).toContain('<form method="post" action="/login">');
    // After logging in, the browser goes back where it was going.
    expect(response.body).toContain(`name="next" value="${url}"`);
  });

  it.each([
    ["GET", "/api/queues"],
    ["GET", "/api/redis/stats"],
    ["GET", "/api/queues/fanfare-queue/evt_1"],
    ["PUT", "/api/queues/fanfare-queue/retry/failed"],
    ["PUT", "/api/queues/fanfare-queue/evt_1/retry"],
    ["PUT", "/api/queues/fanfare-queue/obliterate"],
    ["GET", "/static/js/main.f10757109b.js"],
  ] as const)("%s %s answers 401 JSON", async (method, url) => {
    const response = await d.app.inject({ method, url });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({
      error: expect.any(String),
      code: "DASHBOARD_UNAUTHENTICATED",
    });
  });

  it("the API answers JSON even to a browser", async () => {
    const response = await d.app.inject({ url: "/api/queues", headers: html });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ code: "DASHBOARD_UNAUTHENTICATED" });
  });

  it("a forged or tampered cookie is no session", async () => {
    const cookies = await d.login();
    const value = cookies[SESSION_COOKIE] ?? "";
    const tampered = `${value.slice(0, 10)}${value[10] === "A" ? "B" : "A"}${value.slice(11)}`;
    for (const cookie of ["garbage", "a;b", tampered]) {
      const response = await d.app.inject({
        url: "/api/queues",
        cookies: { [SESSION_COOKIE]: cookie },
      });
      expect(response.statusCode).toBe(401);
    }
  });

  it("GET /login serves the form", async () => {
    const response = await d.app.inject({ url: "/login?next=/dead-letters", headers: html });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('name="next" value="/dead-letters"');
    expect(response.body).toContain('type="password"');
  });
});

describe("logging in", () => {
  it("a browser is sent on with an httpOnly, sameSite=lax session cookie", async () => {
    const response = await d.app.inject({
      method: "POST",
      url: "/login",
      headers: { ...html, "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams({ ...ADMIN, next: "/queue/fanfare-queue" }).toString(),
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe("/queue/fanfare-queue");
    const cookie = response.cookies.find((candidate) => candidate.name === SESSION_COOKIE);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/" });
    expect(cookie?.secure).toBeUndefined();

    const board = await d.app.inject({
      url: "/queue/fanfare-queue",
      headers: html,
      cookies: { [SESSION_COOKIE]: cookie?.value ?? "" },
    });
    expect(board.statusCode).toBe(200);
    expect(board.body).toContain('id="__UI_CONFIG__"');
  });

  it("a session opens the API and Bull Board's assets", async () => {
    const cookies = await d.login();
    const queues = await d.app.inject({ url: "/api/queues", cookies });
    expect(queues.statusCode).toBe(200);
    const body = queues.json<{ queues: { name: string; allowCompletedRetries: boolean }[] }>();
    expect(body.queues.map((queue) => queue.name).sort()).toEqual([
      "fanfare-auction",
      "fanfare-consumer",
      "fanfare-draw",
      "fanfare-experience",
      "fanfare-queue",
      "fanfare-unrouted",
    ]);
    expect(body.queues.every((queue) => !queue.allowCompletedRetries)).toBe(true);
    const asset = await d.app.inject({ url: "/static/images/logo.svg", cookies });
    expect(asset.statusCode).toBe(200);
  });

  it("next may only be a path on this site", async () => {
    for (const next of [
      "https://evil.test/",
      "//evil.test/",
      "/\\evil.test",
      "javascript:alert(1)",
    ]) {
      const response = await d.app.inject({
        method: "POST",
        url: "/login",
        headers: html,
        payload: { ...ADMIN, next },
      });
      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe("/");
    }
  });

  it("a wrong password or an unknown user gets 401, and no cookie", async () => {
    for (const credentials of [
      { username: ADMIN.username, password: "wrong password" },
      { username: "nobody", password: ADMIN.password },
      { username: ADMIN.username, password: VIEWER.password },
    ]) {
      const json = await d.app.inject({ method: "POST", url: "/login", payload: credentials });
      expect(json.statusCode).toBe(401);
      expect(json.json()).toEqual({
        error: "wrong user name or password",
        code: "DASHBOARD_BAD_CREDENTIALS",
      });
      expect(json.cookies).toHaveLength(0);
      const page = await d.app.inject({
        method: "POST",
        url: "/login",
        headers: html,
        payload: credentials,
      });
      expect(page.statusCode).toBe(401);
      expect(page.body).toContain("wrong user name or password");
    }
  });

  it("a login without a user name or password is a 400", async () => {
    const response = await d.app.inject({
      method: "POST",
      url: "/login",
      payload: { username: ADMIN.username },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: "DASHBOARD_BAD_REQUEST" });
  });

  it("the login page escapes what it echoes", async () => {
    const response = await d.app.inject({
      method: "POST",
      url: "/login",
      headers: html,
      payload: { username: '"><script>alert(1)</script>', password: "x" },
    });
    expect(response.body).not.toContain("<script>alert(1)");
    expect(response.body).toContain("&quot;&gt;&lt;script&gt;");
  });

  it("logging out ends the session", async () => {
    const cookies = await d.login();
    const logout = await d.app.inject({ method: "POST", url: "/logout", headers: html, cookies });
    expect(logout.statusCode).toBe(303);
    expect(logout.headers.location).toBe("/login");
    const cleared = logout.cookies.find((candidate) => candidate.name === SESSION_COOKIE);
    expect(cleared?.value).toBe("");
    expect(cleared?.maxAge).toBe(0);
  });

  it("GET /login with a session goes straight on", async () => {
    const cookies = await d.login();
    const response = await d.app.inject({ url: "/login?next=/dead-letters", cookies });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe("/dead-letters");
  });

  it("a session ends when its user's password changes, or the session secret does", async () => {
    const cookies = await d.login();
    const changedPassword = await createDashboard({
      users: [{ ...ADMIN, password: "a brand new password", role: "admin" }],
    });
    const changedSecret = await createDashboard({
      sessionSecret: "another-session-secret-0123456789abcdefghij",
    });
    try {
      for (const other of [changedPassword, changedSecret]) {
        const response = await other.app.inject({ url: "/api/queues", cookies });
        expect(response.statusCode).toBe(401);
      }
    } finally {
      await changedPassword.close();
      await changedSecret.close();
    }
  });

  it("GET /logout only asks: logging out takes a POST", async () => {
    const cookies = await d.login();
    const page = await d.app.inject({ url: "/logout", headers: html, cookies });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<form method="post" action="/logout">');
    expect(page.cookies).toHaveLength(0);
    const still = await d.app.inject({ url: "/api/queues", cookies });
    expect(still.statusCode).toBe(200);
  });
});

describe("repeated bad logins", () => {
  it("are limited per address and user name: the 11th try in the window gets 429", async () => {
    const username = ADMIN.username;
    const remoteAddress = "192.0.2.10";
    for (let attempt = 1; attempt <= 10; attempt++) {
      const response = await d.app.inject({
        method: "POST",
        url: "/login",
        remoteAddress,
        payload: { username, password: `guess ${attempt}` },
      });
      expect(response.statusCode).toBe(401);
    }
    const limited = await d.app.inject({
      method: "POST",
      url: "/login",
      remoteAddress,
      payload: { username, password: "guess 11" },
    });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({
      error: "too many failed logins for this user from your address; try again in 15 minutes",
      code: "DASHBOARD_TOO_MANY_LOGINS",
    });
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(800);

    // Even the right password: otherwise the limit would not slow guessing down.
    const right = await d.app.inject({
      method: "POST",
      url: "/login",
      remoteAddress,
      headers: html,
      payload: ADMIN,
    });
    expect(right.statusCode).toBe(429);
    expect(right.body).toContain("too many failed logins");
    expect(right.cookies).toHaveLength(0);

    // Another address, or another user from the same address, is not affected.
    const elsewhere = await d.app.inject({
      method: "POST",
      url: "/login",
      remoteAddress: "192.0.2.11",
      payload: ADMIN,
    });
    expect(elsewhere.statusCode).toBe(200);
    const otherUser = await d.app.inject({
      method: "POST",
      url: "/login",
      remoteAddress,
      payload: VIEWER,
    });
    expect(otherUser.statusCode).toBe(200);
  });

  it("successful logins do not count", async () => {
    for (let attempt = 1; attempt <= 12; attempt++) {
      const response = await d.app.inject({
        method: "POST",
        url: "/login",
        remoteAddress: "192.0.2.20",
        payload: VIEWER,
      });
      expect(response.statusCode).toBe(200);
    }
  });
});

describe("cross-site requests", () => {
  it("are refused for anything that changes state, with or without a session", async () => {
    const cookies = await d.login();
    for (const headers of [
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
      { origin: "https://evil.test" },
      { origin: "null" },
    ]) {
      for (const [method, url] of [
        ["PUT", "/api/queues/fanfare-queue/retry/failed"],
        ["POST", "/login"],
        ["POST", "/logout"],
      ] as const) {
        const response = await d.app.inject({ method, url, headers, cookies, payload: ADMIN });
        expect(response.statusCode).toBe(403);
        expect(response.json()).toMatchObject({ code: "DASHBOARD_CROSS_SITE_REQUEST" });
      }
    }
  });

  it("same-origin requests from the UI pass", async () => {
    const cookies = await d.login();
    for (const headers of [
      { "sec-fetch-site": "same-origin" },
      { origin: "http://localhost:80", host: "localhost:80" },
      { origin: "http://dash.example:3001", host: "dash.example:3001" },
    ]) {
      const response = await d.app.inject({
        method: "PUT",
        url: "/api/queues/fanfare-queue/retry/failed",
        headers,
        cookies,
      });
      expect(response.statusCode).toBe(200);
    }
  });
});

describe("pages", () => {
  it("cannot be framed and are not cached", async () => {
    const response = await d.app.inject({ url: "/login" });
    expect(response.headers["x-frame-options"]).toBe("DENY");
    expect(response.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(response.headers["cache-control"]).toBe("no-store");
  });
});
