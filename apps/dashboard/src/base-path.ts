import type { IncomingMessage } from "node:http";
import type { FastifyInstance } from "fastify";
import { errorBody, errorStatus } from "./errors.ts";

/**
 * DASHBOARD_BASE_PATH: where the dashboard lives on its host, `/` or e.g. `/fanfare/`.
 *
 * The contract with a reverse proxy: it forwards the full path unchanged (`/fanfare/login` arrives
 * as `/fanfare/login`, no prefix stripping) and the dashboard serves everything under the base path:
 * its pages, forms, redirects, the session cookie (Path), Bull Board's page, assets and API. Only
 * /healthz is also answered at the root, for container health checks; everything else outside the
 * base path is a 404, and the base path without its slash (`/fanfare`) redirects to `/fanfare/`.
 */

/** Letters, digits, `-`, `_`, `.` and `~`: nothing to encode in a URL, an attribute or a cookie. */
const SEGMENT = /^[A-Za-z0-9._~-]+$/;

/**
 * What is wrong with a DASHBOARD_BASE_PATH value (after trimming), or undefined when it is a path
 * this dashboard can live under.
 */
export function basePathProblem(value: string): string | undefined {
  const hint =
    "must be a path such as /fanfare/ (letters, digits, - _ . ~ between slashes; no scheme, host, query, `..` or empty segments)";
  if (value === "/") return undefined;
  if (!value.startsWith("/")) return hint;
  const segments = value.slice(1).replace(/\/$/, "").split("/");
  for (const segment of segments) {
    if (!SEGMENT.test(segment) || segment === "." || segment === "..") return hint;
  }
  return undefined;
}

/** `/fanfare` and `/fanfare/` → `/fanfare/`; `/` stays. Assumes basePathProblem found none. */
export const normaliseBasePath = (value: string): string =>
  value.endsWith("/") ? value : `${value}/`;

/** `path` (from the dashboard's root, e.g. `/login` or `dead-letters`) under `basePath`. */
export const atBase = (basePath: string, path: string): string =>
  `${basePath}${path.replace(/^\/+/, "")}`;

/**
 * Where Fastify routes a request from outside the base path: a path with no route, so that
 * nothing is served there even before serveUnderBasePath's hook answers.
 */
export const OUTSIDE_BASE_PATH = "/.outside-base-path";

const pathOf = (url: string) => url.split("?", 1)[0] ?? url;

/**
 * Fastify's `rewriteUrl` for a base path other than `/`: `/fanfare/x?y` is routed as `/x?y`, so
 * every route, hook and policy (the guard, the action policy, Bull Board's routes) matches the
 * same patterns as at the root; `/healthz` at the root is kept; anything else goes to
 * OUTSIDE_BASE_PATH. `request.originalUrl` keeps what the client asked for.
 */
export function basePathRewrite(
  basePath: string,
): ((req: Pick<IncomingMessage, "url">) => string) | undefined {
  if (basePath === "/") return undefined;
  const bare = basePath.slice(0, -1);
  return (req) => {
    const url = req.url ?? "/";
    if (url.startsWith(basePath)) return url.slice(bare.length);
    if (pathOf(url) === "/healthz") return url;
    return OUTSIDE_BASE_PATH;
  };
}

/**
 * Answers what basePathRewrite sent outside: `/fanfare` (GET/HEAD) redirects to `/fanfare/`,
 * anything else is a 404 `{ error, code }`, before the session guard (no login page there).
 * Register it before the other onRequest hooks.
 */
export function serveUnderBasePath(app: FastifyInstance, basePath: string): void {
  if (basePath === "/") return;
  const bare = basePath.slice(0, -1);
  app.addHook("onRequest", async (request, reply) => {
    if (pathOf(request.url) !== OUTSIDE_BASE_PATH) return;
    const original = request.originalUrl;
    if ((request.method === "GET" || request.method === "HEAD") && pathOf(original) === bare) {
      return reply.redirect(`${basePath}${original.slice(bare.length)}`, 308);
    }
    return reply
      .code(errorStatus.DASHBOARD_NOT_FOUND)
      .send(errorBody("DASHBOARD_NOT_FOUND", "not found"));
  });
}
