import { familyQueueNames } from "@fanfare-relay/events/families";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "../src/auth/session.ts";
import { basePathRewrite } from "../src/base-path.ts";
import { ConfigError, loadEnv } from "../src/env.ts";
import { ADMIN, VIEWER, createDashboard, type DashboardHarness } from "./helpers.ts";

const production = {
  DASHBOARD_ADMIN_USER: "ops",
  DASHBOARD_ADMIN_PASSWORD: "s3cret-admin-pass",
  DASHBOARD_SESSION_SECRET: "a-session-secret-of-at-least-32-characters",
};
const HTML = { accept: "text/html,application/xhtml+xml" };
const queueName = familyQueueNames.queue;

describe("guarantee: DASHBOARD_BASE_PATH is a plain path, normalised, or the dashboard does not start", () => {
  it("defaults to / and normalises /fanfare and /fanfare/ to /fanfare/", () => {
    expect(loadEnv(production).DASHBOARD_BASE_PATH).toBe("/");
    expect(loadEnv({ ...production, DASHBOARD_BASE_PATH: "" }).DASHBOARD_BASE_PATH).toBe("/");
    for (const value of ["/fanfare", "/fanfare/", " /fanfare/ "]) {
      expect(loadEnv({ ...production, DASHBOARD_BASE_PATH: value }).DASHBOARD_BASE_PATH).toBe(
        "/fanfare/",
      );
    }
    expect(
      loadEnv({ ...production, DASHBOARD_BASE_PATH: "/ops/fanfare-1.x" }).DASHBOARD_BASE_PATH,
    ).toBe("/ops/fanfare-1.x/");
  });

  it.each([
    "https://example.com/fanfare/",
    "//example.com/fanfare/",
    "example.com/fanfare",
    "fanfare/",
    "/fanfare/../admin/",
    "/./fanfare/",
    "/fanfare?x=1",
    "/fanfare#top",
    "/fanfare//",
    "//",
    "/fan fare/",
    "/fan%2Ffare/",
    "\\fanfare\\",
  ])("refuses %j with a ConfigError naming the variable", (value) => {
    let error: unknown;
    try {
      loadEnv({ ...production, DASHBOARD_BASE_PATH: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(
      "DASHBOARD_BASE_PATH: must be a path such as /fanfare/",
    );
  });

  it("routes from the root: the prefix is stripped, /healthz kept, everything else sent nowhere", () => {
    const rewrite = basePathRewrite("/fanfare/");
    if (rewrite === undefined) throw new Error("no rewrite");
    const at = (url: string) => rewrite({ url });
    expect(at("/fanfare/")).toBe("/");
    expect(at("/fanfare/api/queues?x=1")).toBe("/api/queues?x=1");
    expect(at("/healthz")).toBe("/healthz");
    expect(at("/fanfarex/login")).not.toBe("/login");
    expect(at("/login")).not.toBe("/login");
    expect(basePathRewrite("/")).toBeUndefined();
  });
});

describe("guarantee: with DASHBOARD_BASE_PATH=/fanfare/ every route, redirect, form, link and the session cookie stay under /fanfare/", () => {
  let dashboard: DashboardHarness | undefined;
  const app = () => {
    if (dashboard === undefined) throw new Error("no dashboard");
    return dashboard.app;
  };

  beforeAll(async () => {
    dashboard = await createDashboard({ basePath: "/fanfare/" });
  });
  afterAll(async () => {
    await dashboard?.close();
  });

  async function login(user = ADMIN) {
    const response = await app().inject({ method: "POST", url: "/fanfare/login", payload: user });
    expect(response.statusCode).toBe(200);
    const cookie = response.cookies.find((candidate) => candidate.name === SESSION_COOKIE);
    if (cookie === undefined) throw new Error("login set no session cookie");
    return { [SESSION_COOKIE]: cookie.value };
  }

  it("without a session the board answers the login form, which posts to /fanfare/login and comes back", async () => {
    const page = await app().inject({ url: "/fanfare/queue/x?status=failed", headers: HTML });
    expect(page.statusCode).toBe(401);
    expect(page.body).toContain('<form method="post" action="/fanfare/login">');
    expect(page.body).toContain('name="next" value="/fanfare/queue/x?status=failed"');

    const api = await app().inject({ url: "/fanfare/api/queues" });
    expect(api.statusCode).toBe(401);
    expect(api.json()).toEqual({
      error: "log in first: POST /fanfare/login",
      code: "DASHBOARD_UNAUTHENTICATED",
    });

    const form = await app().inject({ url: "/fanfare/login", headers: HTML });
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('name="next" value="/fanfare/"');
  });

  it("logging in redirects to `next` under /fanfare/ (anything else: /fanfare/) and sets the cookie with Path=/fanfare/", async () => {
    const post = (next: string) =>
      app().inject({
        method: "POST",
        url: "/fanfare/login",
        headers: HTML,
        payload: { ...ADMIN, next },
      });
    const back = await post("/fanfare/dead-letters");
    expect(back.statusCode).toBe(303);
    expect(back.headers.location).toBe("/fanfare/dead-letters");
    const cookie = back.cookies.find((candidate) => candidate.name === SESSION_COOKIE);
    expect(cookie).toMatchObject({ path: "/fanfare/", httpOnly: true, sameSite: "Lax" });

    for (const next of [
      "/",
      "/other-app/",
      "/fanfare",
      "//evil.example/fanfare/",
      "https://evil.example/",
    ]) {
      const response = await post(next);
      expect(response.headers.location, next).toBe("/fanfare/");
    }

    const loggedIn = await app().inject({
      url: "/fanfare/login?next=/fanfare/dead-letters",
      headers: HTML,
      cookies: await login(),
    });
    expect(loggedIn.statusCode).toBe(303);
    expect(loggedIn.headers.location).toBe("/fanfare/dead-letters");
  });

  it("logging out redirects to /fanfare/login and clears the cookie at Path=/fanfare/", async () => {
    const cookies = await login();
    const confirm = await app().inject({ url: "/fanfare/logout", headers: HTML, cookies });
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain('<form method="post" action="/fanfare/logout">');

    const response = await app().inject({
      method: "POST",
      url: "/fanfare/logout",
      headers: HTML,
      cookies,
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe("/fanfare/login");
    const cleared = response.cookies.find((candidate) => candidate.name === SESSION_COOKIE);
    expect(cleared?.path).toBe("/fanfare/");
    expect(cleared?.value).toBe("");
  });

  it("the board's page has <base href=/fanfare/>, its links and the Dead letters link under /fanfare/, and its assets and API answer there", async () => {
    const cookies = await login();
    const board = await app().inject({ url: "/fanfare/", headers: HTML, cookies });
    expect(board.statusCode).toBe(200);
    expect(board.body).toContain('<base href="/fanfare/"');
    expect(board.body).toContain('<a href="/fanfare/dead-letters"');
    const config = /<script id="__UI_CONFIG__" type="application\/json">(.*?)<\/script>/s.exec(
      board.body,
    )?.[1];
    expect(JSON.parse(config ?? "{}")).toMatchObject({
      miscLinks: [
        { text: "Dead letters", url: "/fanfare/dead-letters" },
        { text: "Log out", url: "/fanfare/logout" },
      ],
    });
    // Every asset is relative to <base href>: none absolute to the root.
    expect(board.body).not.toMatch(/(?:src|href)="\/(?!fanfare\/)/);
    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(board.body)?.[1];
    expect(script).toBeDefined();
    const asset = await app().inject({ url: `/fanfare/${script ?? ""}`, cookies });
    expect(asset.statusCode).toBe(200);

    const job = await app().inject({
      url: `/fanfare/queue/${queueName}/some-job`,
      headers: HTML,
      cookies,
    });
    expect(job.statusCode).toBe(200);

    const api = await app().inject({ url: "/fanfare/api/queues", cookies });
    expect(api.statusCode).toBe(200);
    expect(api.json()).toHaveProperty("queues");
  });

  it("the Dead letters page links the board, itself and Log out under /fanfare/", async () => {
    const response = await app().inject({
      url: "/fanfare/dead-letters",
      headers: HTML,
      cookies: await login(),
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('<a href="/fanfare/">Queues</a>');
    expect(response.body).toContain('<a href="/fanfare/dead-letters">Dead letters</a>');
    expect(response.body).toContain('<form method="post" action="/fanfare/logout">');
    expect(response.body).not.toMatch(/(?:href|action)="\/(?!fanfare\/)/);
  });

  it("the policies hold under the prefix: a viewer's retry is refused, a cross-site POST too", async () => {
    const viewer = await login(VIEWER);
    const retry = await app().inject({
      method: "PUT",
      url: `/fanfare/api/queues/${queueName}/retry/failed`,
      cookies: viewer,
    });
    expect(retry.statusCode).toBe(403);
    expect(retry.json()).toMatchObject({ code: "DASHBOARD_READ_ONLY" });

    const crossSite = await app().inject({
      method: "PUT",
      url: `/fanfare/api/queues/${queueName}/retry/failed`,
      headers: { "sec-fetch-site": "cross-site" },
      cookies: await login(),
    });
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.json()).toMatchObject({ code: "DASHBOARD_CROSS_SITE_REQUEST" });
  });

  it("outside /fanfare/ everything is 404, with or without a session; /healthz answers at both places", async () => {
    const cookies = await login();
    for (const url of [
      "/",
      "/login",
      "/dead-letters",
      "/logout",
      "/api/queues",
      `/queue/${queueName}`,
      "/static/js/main.js",
      "/fanfarex/",
      "/FANFARE/",
      "/fanfare/../login",
    ]) {
      for (const headers of [HTML, {}]) {
        const response = await app().inject({ url, headers, cookies });
        expect(response.statusCode, url).toBe(404);
        expect(response.json()).toEqual({ error: "not found", code: "DASHBOARD_NOT_FOUND" });
      }
    }
    const post = await app().inject({ method: "POST", url: "/login", payload: ADMIN });
    expect(post.statusCode).toBe(404);
    expect(post.cookies).toEqual([]);

    for (const url of ["/healthz", "/fanfare/healthz"]) {
      const health = await app().inject({ url });
      expect(health.statusCode, url).toBe(200);
      expect(health.json()).toEqual({ status: "ok" });
    }
  });

  it("/fanfare without its slash redirects to /fanfare/, keeping the query", async () => {
    const bare = await app().inject({ url: "/fanfare" });
    expect(bare.statusCode).toBe(308);
    expect(bare.headers.location).toBe("/fanfare/");
    const withQuery = await app().inject({ url: "/fanfare?x=1" });
    expect(withQuery.headers.location).toBe("/fanfare/?x=1");
    const post = await app().inject({ method: "POST", url: "/fanfare" });
    expect(post.statusCode).toBe(404);
  });
});
