import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { LoginLimiter } from "../auth/login-limiter.ts";
import { sessionUser, startSession } from "../auth/session.ts";
import type { UserDirectory } from "../auth/users.ts";
import { DashboardError, errorBody, errorStatus, type DashboardErrorCode } from "../errors.ts";
import escapeHtml from "escape-html";
import { atBase } from "../base-path.ts";
import { page } from "../html/layout.ts";
import { loginPage, safeNext } from "../html/login-page.ts";

export interface LoginRouteOptions {
  users: UserDirectory;
  limiter: LoginLimiter;
  /** DASHBOARD_BASE_PATH: forms, redirects and `next` stay under it. */
  basePath: string;
}

const loginBody = z.object({
  username: z.string().min(1).max(200),
  password: z.string().min(1).max(1000),
  next: z.string().optional(),
});

/** Failed logins are counted in Redis: without it no login is checked, rather than unlimited ones. */
function unavailable(error: unknown): never {
  throw new DashboardError(
    "DASHBOARD_UNAVAILABLE",
    "the dashboard cannot reach Redis; try again shortly",
    {
      cause: error,
    },
  );
}

const acceptsHtml = (request: FastifyRequest) =>
  (request.headers.accept ?? "").includes("text/html");

/** The login page again with a message for browsers, `{error, code}` for everyone else. */
function fail(
  request: FastifyRequest,
  reply: FastifyReply,
  code: DashboardErrorCode,
  message: string,
  form: { next: string; username?: string | undefined; basePath: string },
) {
  reply.code(errorStatus[code]);
  if (acceptsHtml(request)) {
    return reply.type("text/html; charset=utf-8").send(loginPage({ ...form, message }));
  }
  return reply.send(errorBody(code, message));
}

export function loginRoutes(app: FastifyInstance, { users, limiter, basePath }: LoginRouteOptions) {
  app.get("/login", { config: { public: true } }, (request, reply) => {
    const next = safeNext((request.query as { next?: unknown }).next, basePath);
    if (sessionUser(request, users)) return reply.redirect(next, 303);
    return reply.type("text/html; charset=utf-8").send(loginPage({ next, basePath }));
  });

  app.post("/login", { config: { public: true } }, async (request, reply) => {
    const raw = (request.body ?? {}) as Record<string, unknown>;
    const next = safeNext(raw.next, basePath);
    const parsed = loginBody.safeParse(raw);
    if (!parsed.success) {
      return fail(request, reply, "DASHBOARD_BAD_REQUEST", "enter a user name and a password", {
        next,
        basePath,
      });
    }
    const { username, password } = parsed.data;

    const blockedSeconds = await limiter.blockedForSeconds(request, username).catch(unavailable);
    if (blockedSeconds > 0) {
      const minutes = Math.ceil(blockedSeconds / 60);
      request.log.warn({ ip: request.ip }, "login refused: too many failed attempts");
      reply.header("retry-after", String(blockedSeconds));
      return fail(
        request,
        reply,
        "DASHBOARD_TOO_MANY_LOGINS",
        `too many failed logins for this user from your address; try again in ${minutes} minute${minutes === 1 ? "" : "s"}`,
        { next, username, basePath },
      );
    }

    const user = users.verify(username, password);
    if (user === undefined) {
      await limiter.recordFailure(request, username).catch(unavailable);
      // No user name either: people type their password into it by mistake.
      request.log.warn({ ip: request.ip }, "login failed");
      return fail(request, reply, "DASHBOARD_BAD_CREDENTIALS", "wrong user name or password", {
        next,
        username,
        basePath,
      });
    }

    startSession(request, user);
    request.log.info({ user: user.username, role: user.role, ip: request.ip }, "logged in");
    if (acceptsHtml(request)) return reply.redirect(next, 303);
    return { user: user.username, role: user.role };
  });

  // Bull Board's menu can only link; logging out takes a POST, so this page asks for it.
  app.get("/logout", (request, reply) => {
    const user = request.user ?? undefined;
    return reply.type("text/html; charset=utf-8").send(
      page(
        "Log out",
        `<main><p>Log out ${escapeHtml(user?.username ?? "")}?</p>
<form method="post" action="${escapeHtml(atBase(basePath, "/logout"))}"><button type="submit">Log out</button></form></main>`,
        { user, basePath },
      ),
    );
  });

  // Public: it only ever ends a session, so an expired one must not stand in its way.
  app.post("/logout", { config: { public: true } }, (request, reply) => {
    const user = sessionUser(request, users);
    request.session.delete();
    if (user) request.log.info({ user: user.username, ip: request.ip }, "logged out");
    if (acceptsHtml(request)) return reply.redirect(atBase(basePath, "/login"), 303);
    return reply.code(204).send();
  });
}
