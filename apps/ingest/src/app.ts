import type { EventProducer } from "@fanfare-relay/queues/producer";
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyReply,
} from "fastify";
import type { RedisConnection } from "@fanfare-relay/queues/redis-connection";
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { answerConnectRequests } from "./connect-requests.ts";
import type { TrustProxy } from "./env.ts";
import { errorStatus, IngestError, type IngestErrorCode } from "./errors.ts";
import {
  DEFAULT_EVICTION_CHECK_INTERVAL_MS,
  EvictionGate,
  type PolicyNotReady,
} from "./eviction-gate.ts";
import { lazyChildLoggerFactory } from "./lazy-child-logger.ts";
import { createIngestMetrics, type IngestMetrics, type RequestOutcome } from "./metrics.ts";
import { healthRoutes } from "./routes/health.ts";
import { WEBHOOK_PATH, webhookRoutes } from "./routes/webhook.ts";

export interface IngestDeps {
  secrets: readonly string[];
  toleranceSeconds: number;
  bodyLimitBytes: number;
  enqueueTimeoutMs: number;
  trustProxy?: TrustProxy;
  producer: Pick<EventProducer, "enqueue">;
  /**
   * The producer's connection: /readyz pings it, the eviction policy is read on it (at start, on
   * every `ready` and periodically), and its status tells a known outage (logged once by the
   * connection's outage logger) from a failure worth a line of its own.
   */
  redis: RedisConnection;
  /** `REDIS_ALLOW_EVICTION`: accept deliveries whatever Redis's maxmemory-policy. */
  allowEviction?: boolean;
  /** How often Redis's maxmemory-policy is read again, in ms (default 30 s). */
  evictionCheckIntervalMs?: number;
  /**
   * On a cluster, one key per queue (`slotProbeKeys`): /readyz reaches the master of each queue's
   * slot, so a dead master fails it until its replica is promoted.
   */
  readinessKeys?: readonly string[];
  /** A pino logger; omit for silence (tests). */
  logger?: FastifyBaseLogger;
  metrics?: IngestMetrics;
  /** Current unix time in seconds; injectable so tests can replay signed vectors. */
  now?: () => number;
}

const outcomeByStatus: Partial<Record<number, RequestOutcome>> = {
  400: "bad_request",
  401: "unauthorized",
  405: "method_not_allowed",
  408: "bad_request",
  413: "too_large",
  415: "unsupported_media_type",
  431: "bad_request",
  503: "unavailable",
};

/** Fastify's own errors mapped onto our stable codes (body limit, content type, ...). */
const fastifyCodes: Record<string, IngestErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "INGEST_BODY_TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "INGEST_UNSUPPORTED_MEDIA_TYPE",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "INGEST_BAD_REQUEST",
};

function toIngestError(error: FastifyError): IngestError {
  if (error instanceof IngestError) return error;
  const mapped = fastifyCodes[error.code];
  if (mapped) {
    const message =
      mapped === "INGEST_BODY_TOO_LARGE"
        ? "request body is larger than the configured limit"
        : mapped === "INGEST_UNSUPPORTED_MEDIA_TYPE"
          ? "Content-Type must be application/json"
          : error.message;
    return new IngestError(mapped, message);
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return new IngestError("INGEST_BAD_REQUEST", error.message);
  return new IngestError("INGEST_INTERNAL", "internal error");
}

/**
 * Answers a request Node's HTTP parser refused (malformed request line, unknown method, headers
 * too large, request timeout) in the ingest's `{error, code}` shape, on the raw socket: no Fastify
 * request exists for it.
 */
function clientErrorResponse(error: Error & { code?: string }): {
  status: number;
  code: IngestErrorCode;
  body: string;
} {
  const code: IngestErrorCode =
    error.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? "INGEST_REQUEST_TIMEOUT"
      : error.code === "HPE_HEADER_OVERFLOW"
        ? "INGEST_HEADERS_TOO_LARGE"
        : "INGEST_BAD_REQUEST";
  const message =
    code === "INGEST_REQUEST_TIMEOUT"
      ? "the request was not received in time"
      : code === "INGEST_HEADERS_TOO_LARGE"
        ? "request headers are too large"
        : "malformed HTTP request";
  return { status: errorStatus[code], code, body: JSON.stringify({ error: message, code }) };
}

export function buildApp(deps: IngestDeps) {
  const metrics = deps.metrics ?? createIngestMetrics();
  let draining = false;
  let closing = false;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    trustProxy: deps.trustProxy ?? false,
    // The route logs what matters per delivery; Fastify's two lines per request would flood the
    // logs during a drop.
    logController: new LogController({ disableRequestLogging: true }),
    // request.log gets its pino child only when the request logs something (most never do).
    ...(deps.logger ? { childLoggerFactory: lazyChildLoggerFactory } : {}),
    requestIdHeader: "x-request-id",
    // Longer than common load balancer idle timeouts (60 s), so the LB closes first.
    keepAliveTimeout: 65_000,
    requestTimeout: 30_000,
    // Enforced while the body streams in: an oversized delivery is refused without buffering it.
    bodyLimit: deps.bodyLimitBytes,
    // Fastify's own 503 during close has its own body shape; the onRequest hook below answers
    // those requests with ours.
    return503OnClosing: false,
    frameworkErrors: (error, _request, reply) => {
      const ingestError =
        error.statusCode !== undefined && error.statusCode < 500
          ? new IngestError("INGEST_BAD_REQUEST", "bad request")
          : new IngestError("INGEST_INTERNAL", "internal error");
      metrics.requests.inc({ outcome: outcomeByStatus[ingestError.statusCode] ?? "error" });
      // Typed for every route's reply schema; this one is sent before any route is chosen.
      void (reply as unknown as FastifyReply)
        .code(ingestError.statusCode)
        .send({ error: ingestError.message, code: ingestError.code });
    },
    clientErrorHandler: (error: Error & { code?: string }, socket: Socket) => {
      // A reset connection has nobody left to answer.
      if (error.code === "ECONNRESET" || socket.destroyed) return;
      const { status, code, body } = clientErrorResponse(error);
      metrics.requests.inc({ outcome: outcomeByStatus[status] ?? "error" });
      // Like every other client rejection: one warn line with the code, never the request.
      app.log.warn({ code, status }, "webhook rejected");
      if (socket.writable) {
        socket.write(
          `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      }
      socket.destroy(error);
    },
  });

  // CONNECT never reaches Fastify (Node emits it as `connect`): answer it in our shape too. On the
  // webhook path it is "a method other than POST"; elsewhere (`CONNECT host:port`, a proxy tunnel)
  // it is a request this server cannot make sense of.
  answerConnectRequests(app.server, (request) => {
    const onWebhook = (request.url ?? "").split("?")[0] === WEBHOOK_PATH;
    const error = onWebhook
      ? new IngestError("INGEST_METHOD_NOT_ALLOWED", "only POST is allowed on this endpoint")
      : new IngestError("INGEST_BAD_REQUEST", "CONNECT is not supported: this is not a proxy");
    metrics.requests.inc({ outcome: outcomeByStatus[error.statusCode] ?? "error" });
    app.log.warn({ code: error.code, status: error.statusCode }, "webhook rejected");
    return {
      status: error.statusCode,
      body: JSON.stringify({ error: error.message, code: error.code }),
      ...(onWebhook ? { headers: { Allow: "POST" } } : {}),
    };
  });

  const gate = new EvictionGate({
    redis: deps.redis,
    logger: app.log,
    allowEviction: deps.allowEviction ?? false,
    intervalMs: deps.evictionCheckIntervalMs ?? DEFAULT_EVICTION_CHECK_INTERVAL_MS,
  });
  app.addHook("onReady", async () => {
    await gate.start();
  });
  app.addHook("onClose", () => {
    gate.stop();
  });
  app.addHook("preClose", (done) => {
    closing = true;
    done();
  });
  // During close, requests still arriving on kept-alive connections are turned away (Fastify
  // adds `Connection: close`); requests already in flight finish normally.
  app.addHook("onRequest", (_request, _reply, done) => {
    done(
      closing
        ? new IngestError("INGEST_SHUTTING_DOWN", "the ingest is shutting down; retry later")
        : undefined,
    );
  });

  app.setErrorHandler((rawError: FastifyError, request, reply) => {
    const error = toIngestError(rawError);
    const outcome = outcomeByStatus[error.statusCode] ?? "error";
    metrics.requests.inc({ outcome });
    if (error.code === "INGEST_INTERNAL") {
      request.log.error({ err: rawError }, "unexpected error");
    } else if (error.statusCode < 500) {
      request.log.warn({ code: error.code, status: error.statusCode }, "webhook rejected");
    }
    // 503s are not logged per request: Redis outages are logged once by the connection's outage
    // logger, an evicting policy once when it is seen, and a failed enqueue on a connection that
    // is up by the route itself.
    if (error.statusCode === 503) reply.header("retry-after", "5");
    return reply.code(error.statusCode).send({
      error: error.message,
      code: error.code,
      ...(error.details?.issues ? { issues: error.details.issues } : {}),
    });
  });

  app.setNotFoundHandler((request, reply) => {
    // Methods Fastify has no route for (PROPFIND, LOCK, ...) land here; on the webhook path they
    // are still "a method other than POST".
    if (request.url.split("?")[0] === WEBHOOK_PATH) {
      reply.header("allow", "POST");
      throw new IngestError("INGEST_METHOD_NOT_ALLOWED", "only POST is allowed on this endpoint");
    }
    return reply
      .code(errorStatus.INGEST_NOT_FOUND)
      .send({ error: "not found", code: "INGEST_NOT_FOUND" });
  });

  // Its own encapsulated context: the raw-body parser must not leak to other routes.
  app.register((scope, _options, done) => {
    webhookRoutes(scope, {
      ...deps,
      metrics,
      refusal: () => gate.refusal(),
      redisIsUp: () => deps.redis.status === "ready",
    });
    done();
  });
  healthRoutes(app, {
    redis: deps.redis,
    readinessKeys: deps.readinessKeys ?? [],
    metrics,
    isDraining: () => draining,
    policy: gate,
  });

  return Object.assign(app, {
    metrics,
    /** Fail readiness so the load balancer stops sending; requests still in flight finish. */
    startDraining() {
      draining = true;
    },
    /**
     * Why deliveries are refused because of Redis's maxmemory-policy (an evicting policy, or one
     * not read yet), or undefined when they are accepted; reads the policy again first unless
     * deliveries are already accepted. For the start line: the reading made while starting may
     * have come before the Redis connection was up.
     */
    async policyNotReady(): Promise<PolicyNotReady | undefined> {
      await gate.refresh();
      return gate.notReady();
    },
  });
}

export type IngestApp = ReturnType<typeof buildApp>;
