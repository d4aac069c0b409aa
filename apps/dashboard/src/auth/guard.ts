import type { FastifyReply, FastifyRequest } from "fastify";
import { errorBody, errorStatus } from "../errors.ts";
import { atBase } from "../base-path.ts";
import { loginPage } from "../html/login-page.ts";
import { sessionUser } from "./session.ts";
import type { User, UserDirectory } from "./users.ts";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Served without a session (health check, login, logout). */
    public?: boolean;
  }
  interface FastifyRequest {
    /** The logged-in user; set by the guard on every non-public route. */
    user: User | null;
  }
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The route pattern when one matched: routing has already decoded the path, so `/%61pi/…` cannot
 * slip past a check on the raw URL.
 */
const routePath = (request: FastifyRequest) =>
  request.routeOptions.url ?? request.url.split("?")[0] ?? "";

export const isApiRequest = (request: FastifyRequest) => routePath(request).startsWith("/api/");

export const wantsHtml = (request: FastifyRequest) =>
  !isApiRequest(request) && (request.headers.accept ?? "").includes("text/html");

/**
 * A state-changing request a browser sent on behalf of another site. Browsers say so in
 * Sec-Fetch-Site; older ones still send Origin on such requests. Non-browser clients (curl, scripts)
 * send neither and have no ambient cookie to abuse.
 */
function isCrossSite(request: FastifyRequest): boolean {
  const site = request.headers["sec-fetch-site"];
  if (typeof site === "string") return site !== "same-origin" && site !== "none";
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  try {
    const from = new URL(origin);
    // Parsed with the origin's scheme so that default ports compare equal (`host:80` = `host`).
    return from.host !== new URL(`${from.protocol}//${request.host}`).host;
  } catch {
    return true;
  }
}

function refuse(reply: FastifyReply, code: keyof typeof errorStatus, message: string) {
  return reply.code(errorStatus[code]).send(errorBody(code, message));
}

/**
 * Every route but the public ones needs a session; viewers may only read the board's API. Routes
 * are matched from the root (see basePathRewrite); the login page comes back to the URL asked for.
 */
export function authGuard(users: UserDirectory, basePath: string) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!SAFE_METHODS.has(request.method) && isCrossSite(request)) {
      return refuse(
        reply,
        "DASHBOARD_CROSS_SITE_REQUEST",
        "cross-site requests are refused; use the dashboard itself",
      );
    }
    if (request.routeOptions.config.public === true) return;

    const user = sessionUser(request, users);
    if (user === undefined) {
      if (wantsHtml(request)) {
        const next = request.method === "GET" ? request.originalUrl : basePath;
        return reply
          .code(errorStatus.DASHBOARD_UNAUTHENTICATED)
          .type("text/html; charset=utf-8")
          .send(loginPage({ next, basePath }));
      }
      return refuse(
        reply,
        "DASHBOARD_UNAUTHENTICATED",
        `log in first: POST ${atBase(basePath, "/login")}`,
      );
    }
    request.user = user;

    if (user.role === "viewer" && !SAFE_METHODS.has(request.method) && isApiRequest(request)) {
      return refuse(reply, "DASHBOARD_READ_ONLY", "viewers cannot change queues or jobs");
    }
  };
}
