import type { Database } from "@fanfare-relay/db/schema";
import { allQueueNames } from "@fanfare-relay/events/families";
import fastifyFormbody from "@fastify/formbody";
import { Queue } from "bullmq";
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import type { Kysely } from "kysely";
import { authGuard } from "./auth/guard.ts";
import { basePathRewrite, serveUnderBasePath } from "./base-path.ts";
import { registerLoginLimiter } from "./auth/login-limiter.ts";
import { deriveSessionKey, registerSession } from "./auth/session.ts";
import { UserDirectory, type UserCredentials } from "./auth/users.ts";
import { registerBoard } from "./board/board.ts";
import { boardActionPolicy } from "./board/action-policy.ts";
import { showDeadLettersLink } from "./board/dead-letters-link.ts";
import { hideRefusedActions } from "./board/hidden-actions.ts";
import { serveNoOutsideLinks } from "./board/no-third-party.ts";
import { showPermanentFailureHint } from "./board/permanent-failure-hint.ts";
import { viewerFlags } from "./board/viewer-flags.ts";
import type { TrustProxy } from "./env.ts";
import { DashboardError, errorBody, errorResponse, errorStatus } from "./errors.ts";
import {
  answerConnectRequests,
  bullBoardErrorBodies,
  clientErrorHandler,
  frameworkErrors,
  refuseWhileClosing,
} from "./framework-errors.ts";
import { deadLetterRoutes } from "./routes/dead-letters.ts";
import { faviconRoute } from "./routes/favicon.ts";
import { healthRoutes } from "./routes/health.ts";
import { loginRoutes } from "./routes/login.ts";
import { securityHeaders } from "./security-headers.ts";
import { bullPrefix, slotProbeKeys } from "@fanfare-relay/queues/queue-keys";
import type { RedisConnection } from "@fanfare-relay/queues/redis-connection";
import { sharedQueueOptions } from "@fanfare-relay/queues/queue-settings";

export interface DashboardDeps {
  /**
   * A connection made with createProducerConnection (one node, Sentinel's primary or a cluster):
   * the board's queues, /healthz and the login limiter use it, and fail fast while Redis is away
   * instead of hanging the UI. The caller closes it.
   */
  redis: RedisConnection;
  /** REDIS_PREFIX, the same as the ingest's and the workers'. */
  prefix: string;
  /** For the dead-letter view; undefined without DATABASE_URL. The caller destroys it. */
  db?: Kysely<Database> | undefined;
  users: readonly UserCredentials[];
  sessionSecret: string;
  sessionTtlSeconds?: number;
  secureCookie?: boolean;
  trustProxy?: TrustProxy;
  loginMaxFailures?: number;
  loginWindowMs?: number;
  demo?: boolean;
  /**
   * DASHBOARD_BASE_PATH, normalised (`/` or `/fanfare/`): everything is served under it, from the
   * full path a reverse proxy forwards unchanged; /healthz also at the root. Default `/`.
   */
  basePath?: string;
  /** A pino logger; omit for silence (tests). */
  logger?: FastifyBaseLogger;
}

/** Every error answers `{ error, code }` (see errorResponse), with Retry-After on a 503. */
function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const response = errorResponse(error);
  if (response.serverFault) {
    const cause = error instanceof DashboardError ? (error.cause ?? error) : error;
    // Our own messages are ours; anything else's (PostgreSQL's quotes values) only in `err`,
    // where the logger's serializer redacts it.
    const message = error instanceof DashboardError ? error.message : "request failed";
    request.log.error({ err: cause }, message);
  }
  if (response.body.code === "DASHBOARD_UNAVAILABLE") reply.header("retry-after", "5");
  return reply.code(response.status).send(response.body);
}

export async function buildApp(deps: DashboardDeps) {
  const basePath = deps.basePath ?? "/";
  const rewriteUrl = basePathRewrite(basePath);
  const app = Fastify({
    // Routes are matched without the base path, so that every route pattern, hook and policy
    // below (and Bull Board's routes) is the same whatever the base path.
    ...(rewriteUrl ? { rewriteUrl } : {}),
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    trustProxy: deps.trustProxy ?? false,
    // The board polls every few seconds; the lines that matter (logins, actions) are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: "x-request-id",
    // Every answer is `{ error, code }`, also for what Fastify or Node refuse before our routes.
    return503OnClosing: false,
    frameworkErrors: (error, request, reply) => {
      void frameworkErrors(error, request, reply);
    },
    clientErrorHandler,
  });
  refuseWhileClosing(app);
  serveUnderBasePath(app, basePath);
  answerConnectRequests(app.server);
  app.decorateRequest("user", null);

  const sessionKey = deriveSessionKey(deps.sessionSecret);
  const users = new UserDirectory(deps.users, sessionKey);
  const queues = new Map(
    allQueueNames.map((name) => {
      const queue = new Queue(name, {
        ...sharedQueueOptions,
        connection: deps.redis,
        prefix: bullPrefix(deps.prefix, name),
      });
      queue.on("error", (error) => {
        app.log.debug({ err: error, queue: name }, "queue error");
      });
      return [name, queue] as const;
    }),
  );

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((_request, reply) =>
    reply.code(errorStatus.DASHBOARD_NOT_FOUND).send(errorBody("DASHBOARD_NOT_FOUND", "not found")),
  );

  // Registered (awaited) before the guard so that the session is decoded when the guard runs.
  await registerSession(app, {
    key: sessionKey,
    secureCookie: deps.secureCookie ?? false,
    ttlSeconds: deps.sessionTtlSeconds ?? 8 * 60 * 60,
    basePath,
  });
  await app.register(fastifyFormbody, { bodyLimit: 16 * 1024 });
  const limiter = await registerLoginLimiter(app, {
    redis: deps.redis,
    prefix: deps.prefix,
    maxFailures: deps.loginMaxFailures ?? 10,
    windowMs: deps.loginWindowMs ?? 15 * 60_000,
  });

  securityHeaders(app);
  app.addHook("onRequest", authGuard(users, basePath));
  boardActionPolicy(app, { queues, db: deps.db });
  viewerFlags(app);
  hideRefusedActions(app);
  serveNoOutsideLinks(app);
  showPermanentFailureHint(app);
  showDeadLettersLink(app, { db: deps.db, basePath });
  // An audit trail of what operators did to queues and jobs (never bodies: they hold payloads).
  app.addHook("onResponse", async (request, reply) => {
    if (request.user === null || request.method === "GET" || request.method === "HEAD") return;
    const route = request.routeOptions.url;
    if (!route?.startsWith("/api/")) return;
    request.log.info(
      {
        user: request.user.username,
        method: request.method,
        route,
        params: request.params,
        status: reply.statusCode,
      },
      "dashboard action",
    );
  });

  bullBoardErrorBodies(app);
  healthRoutes(app, { redis: deps.redis, slotKeys: slotProbeKeys(deps.prefix, allQueueNames) });
  faviconRoute(app);
  loginRoutes(app, { users, limiter, basePath });
  deadLetterRoutes(app, { db: deps.db, demo: deps.demo ?? false, basePath });
  await registerBoard(app, { queues: [...queues.values()], demo: deps.demo ?? false, basePath });

  app.addHook("onClose", async () => {
    await Promise.all([...queues.values()].map((queue) => queue.close()));
  });
  return app;
}

export type DashboardApp = Awaited<ReturnType<typeof buildApp>>;
