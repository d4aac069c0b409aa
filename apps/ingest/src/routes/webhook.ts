import { parseEnvelope } from "@fanfare-relay/events/envelope";
import type { EventProducer } from "@fanfare-relay/queues/producer";
import { verify } from "@fanfare-relay/signature/verify";
import type { FastifyInstance } from "fastify";
import { IngestError, signatureError } from "../errors.ts";
import type { IngestMetrics } from "../metrics.ts";
import { parseJsonBody } from "../parse-json-body.ts";
import { withTimeout } from "../with-timeout.ts";

export const WEBHOOK_PATH = "/webhooks/fanfare";
const SIGNATURE_HEADER = "x-fanfare-signature";
const RECEIVED = '{"received":true}';
const RECEIVED_DUPLICATE = '{"received":true,"duplicate":true}';

export interface WebhookRouteOptions {
  secrets: readonly string[];
  toleranceSeconds: number;
  enqueueTimeoutMs: number;
  producer: Pick<EventProducer, "enqueue">;
  metrics: IngestMetrics;
  now?: (() => number) | undefined;
  /** Why a verified, valid delivery may not be stored now (e.g. Redis may evict), if it may not. */
  refusal: () => IngestError | undefined;
  /** False while the Redis connection is down: that outage is logged once, elsewhere. */
  redisIsUp: () => boolean;
}

export function webhookRoutes(app: FastifyInstance, options: WebhookRouteOptions): void {
  const {
    secrets,
    toleranceSeconds,
    enqueueTimeoutMs,
    producer,
    metrics,
    now,
    refusal,
    redisIsUp,
  } = options;

  // The body stays raw bytes: the signature covers exactly what was sent, so nothing may touch
  // it before verification.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_request, body, done) => {
    done(null, body);
  });

  app.post(WEBHOOK_PATH, async (request, reply) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const verification = verify({
      payload: body,
      header: request.headers[SIGNATURE_HEADER],
      secrets,
      toleranceSeconds,
      now: now?.(),
    });
    if (!verification.ok) throw signatureError(verification.reason);
    metrics.secretMatches.inc({ secret_index: String(verification.secretIndex) });

    const parsed = parseEnvelope(parseJsonBody(body));
    if (!parsed.success) {
      throw new IngestError(
        "INGEST_INVALID_ENVELOPE",
        "request body is not a valid Fanfare event",
        {
          issues: parsed.issues,
        },
      );
    }
    const { envelope } = parsed;
    const refused = refusal();
    if (refused) throw refused;

    const stopTimer = metrics.enqueueSeconds.startTimer();
    let result;
    try {
      result = await withTimeout(producer.enqueue(envelope), enqueueTimeoutMs);
    } catch (error) {
      // While the connection is down every delivery fails the same way; the outage has its line.
      if (redisIsUp()) {
        request.log.warn(
          { err: error, eventId: envelope.id, type: envelope.type },
          "enqueue failed",
        );
      }
      throw new IngestError("INGEST_UNAVAILABLE", "event could not be stored; retry later");
    }
    stopTimer({ queue: result.queueName });

    const outcome = result.duplicate ? "duplicate" : result.known ? "accepted" : "unrouted";
    metrics.requests.inc({ outcome });
    if (result.duplicate) metrics.duplicates.inc({ queue: result.queueName });
    const logFields = {
      eventId: envelope.id,
      type: envelope.type,
      queue: result.queueName,
      outcome,
    };
    // One line per delivery would be tens of thousands a second during a drop: the metrics count
    // them and the job itself is the record, so accepted deliveries log at debug.
    if (result.known) request.log.debug(logFields, "webhook received");
    else request.log.warn(logFields, "webhook of unknown type kept in the unrouted queue");

    return reply
      .code(200)
      .type("application/json")
      .send(result.duplicate ? RECEIVED_DUPLICATE : RECEIVED);
  });

  app.route({
    method: ["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"],
    url: WEBHOOK_PATH,
    exposeHeadRoute: false,
    handler: async (_request, reply) => {
      reply.header("allow", "POST");
      throw new IngestError("INGEST_METHOD_NOT_ALLOWED", "only POST is allowed on this endpoint");
    },
  });
}
