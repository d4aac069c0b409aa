import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stripOutsideLinks } from "../src/board/no-third-party.ts";
import { ADMIN, createDashboard, type DashboardHarness } from "./helpers.ts";

let d: DashboardHarness;
let cookies: Record<string, string>;

beforeAll(async () => {
  d = await createDashboard();
  cookies = await d.login(ADMIN);
});

afterAll(async () => {
  await d.close();
});

/** Every `http(s)://` or protocol-relative `//host` URL in a text (HTML or CSS). */
function absoluteUrls(text: string): string[] {
  return [...text.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"'()<>]*/gi)].map(
    (match) => match[0],
  );
}

/** The stylesheets a page links (`<link rel="stylesheet" href>`), as paths from the root. */
function stylesheets(html: string): string[] {
  return [...html.matchAll(/<link\b[^>]*rel=["']?stylesheet[^>]*>/gi)].map((match) => {
    const href = /href=["']?([^"'\s>]+)/i.exec(match[0])?.[1] ?? "";
    return new URL(href, "http://127.0.0.1/").pathname;
  });
}

describe("guarantee: the dashboard makes no third-party requests", () => {
  it("the board's pages and every stylesheet they link, 3 pages → no URL to another host", async () => {
    const checked: string[] = [];
    for (const url of ["/", "/queue/fanfare-queue", "/queue/fanfare-queue?status=failed"]) {
      const page = await d.app.inject({ url, cookies });
      expect(page.statusCode).toBe(200);
      expect(page.headers["content-type"]).toMatch(/^text\/html/);
      expect(absoluteUrls(page.body)).toEqual([]);
      expect(page.body).not.toMatch(/googleapis|gstatic|cdn/i);
      const sheets = stylesheets(page.body);
      expect(sheets.length).toBeGreaterThan(0);
      for (const sheet of sheets) {
        const css = await d.app.inject({ url: sheet, cookies });
        expect(css.statusCode).toBe(200);
        expect(absoluteUrls(css.body)).toEqual([]);
        expect(css.body).not.toMatch(/@import|googleapis|gstatic/i);
        checked.push(sheet);
      }
    }
    expect(checked.length).toBeGreaterThanOrEqual(3);
  });

  it("the login and dead-letter pages, 2 pages → no URL to another host", async () => {
    const login = await d.app.inject({ url: "/login" });
    expect(absoluteUrls(login.body)).toEqual([]);
    const deadLetters = await d.app.inject({ url: "/dead-letters", cookies });
    expect(absoluteUrls(deadLetters.body)).toEqual([]);
  });

  it("the Content-Security-Policy of a page and of the board, 2 answers → every source is this origin", async () => {
    for (const response of [
      await d.app.inject({ url: "/login" }),
      await d.app.inject({ url: "/", cookies }),
    ]) {
      const policy = String(response.headers["content-security-policy"]);
      const directives = new Map(
        policy.split(";").map((part) => {
          const [name = "", ...sources] = part.trim().split(/\s+/);
          return [name, sources] as const;
        }),
      );
      expect(directives.get("default-src")).toEqual(["'self'"]);
      expect(directives.get("font-src")).toEqual(["'self'"]);
      expect(directives.get("style-src")).toEqual(["'self'", "'unsafe-inline'"]);
      expect(directives.get("script-src")).toEqual(["'self'"]);
      expect(directives.get("connect-src")).toEqual(["'self'"]);
      for (const sources of directives.values()) {
        for (const source of sources) expect(source).toMatch(/^'[a-z-]+'$|^data:$/);
      }
    }
  });

  it("links to a CDN, absolute, protocol-relative and unquoted, 3 tags → all stripped, local ones kept", () => {
    const html = [
      "<head>",
      '<link href="https://fonts.googleapis.com/css2?family=IBM+Plex+Sans" rel="stylesheet">',
      "<link rel='preconnect' href='//fonts.gstatic.com' crossorigin>",
      "<link rel=stylesheet href=http://cdn.example/x.css>",
      '<link href="static/css/main.css" rel="stylesheet">',
      "</head>",
    ].join("\n");
    expect(stripOutsideLinks(html)).toBe(
      '<head>\n<link href="static/css/main.css" rel="stylesheet">\n</head>',
    );
  });
});
