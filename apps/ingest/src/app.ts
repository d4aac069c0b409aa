import type { EventProducer } from "@fanfare-relay/queues/producer";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError } from "fastify";
import type { Redis } from "ioredis";
import type { TrustProxy } from "./env.ts";
import { errorStatus, IngestError, type IngestErrorCode } from "./errors.ts";
import { createIngestMetrics, type IngestMetrics, type RequestOutcome } from "./metrics.ts";
import { healthRoutes } from "./routes/health.ts";
import { webhookRoutes } from "./routes/webhook.ts";

export interface IngestDeps {
  secrets: readonly string[];
  toleranceSeconds: number;
  bodyLimitBytes: number;
  enqueueTimeoutMs: number;
  trustProxy?: TrustProxy;
  producer: Pick<EventProducer, "enqueue">;
  /** Used by /readyz only. */
  redis: Pick<Redis, "ping">;
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
  413: "too_large",
  415: "unsupported_media_type",
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

export function buildApp(deps: IngestDeps) {
  const metrics = deps.metrics ?? createIngestMetrics();
  let draining = false;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    trustProxy: deps.trustProxy ?? false,
    // The route logs what matters per delivery; Fastify's two lines per request would flood the
    // logs during a drop.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: "x-request-id",
    // Longer than common load balancer idle timeouts (60 s), so the LB closes first.
    keepAliveTimeout: 65_000,
    requestTimeout: 30_000,
    // Enforced while the body streams in: an oversized delivery is refused without buffering it.
    bodyLimit: deps.bodyLimitBytes,
  });

  app.setErrorHandler((rawError: FastifyError, request, reply) => {
    const error = toIngestError(rawError);
    const outcome = outcomeByStatus[error.statusCode] ?? "error";
    metrics.requests.inc({ outcome });
    if (error.statusCode >= 500 && error.code === "INGEST_INTERNAL") {
      request.log.error({ err: rawError }, "unexpected error");
    } else {
      request.log.warn({ code: error.code, status: error.statusCode }, "webhook rejected");
    }
    if (error.code === "INGEST_UNAVAILABLE") reply.header("retry-after", "5");
    return reply.code(error.statusCode).send({
      error: error.message,
      code: error.code,
      ...(error.details?.issues ? { issues: error.details.issues } : {}),
    });
  });

  app.setNotFoundHandler((_request, reply) =>
    reply.code(errorStatus.INGEST_NOT_FOUND).send({ error: "not found", code: "INGEST_NOT_FOUND" }),
  );

  // Its own encapsulated context: the raw-body parser must not leak to other routes.
  app.register((scope, _options, done) => {
    webhookRoutes(scope, { ...deps, metrics });
    done();
  });
  healthRoutes(app, { redis: deps.redis, metrics, isDraining: () => draining });

  return Object.assign(app, {
    metrics,
    /** Fail readiness so the load balancer stops sending; requests still in flight finish. */
    startDraining() {
      draining = true;
    },
  });
}

export type IngestApp = ReturnType<typeof buildApp>;
