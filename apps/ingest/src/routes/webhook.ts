import { parseEnvelope } from "@fanfare-relay/events/envelope";
import { allQueueNames, type QueueName } from "@fanfare-relay/events/families";
import type { EventProducer } from "@fanfare-relay/queues/producer";
import { routeEventType } from "@fanfare-relay/queues/routing";
import { secretKey } from "@fanfare-relay/signature/sign";
import { verify } from "@fanfare-relay/signature/verify";
import type { FastifyInstance } from "fastify";
import { performance } from "node:perf_hooks";
import { EnqueueFailureStreak } from "../enqueue-failure-streak.ts";
import { IngestError, signatureError } from "../errors.ts";
import type { IngestMetrics } from "../metrics.ts";
import { parseJsonBody } from "../parse-json-body.ts";
import { withTimeout } from "../with-timeout.ts";

export const WEBHOOK_PATH = "/webhooks/fanfare";
const SIGNATURE_HEADER = "x-fanfare-signature";
const RECEIVED = '{"received":true}';
const RECEIVED_DUPLICATE = '{"received":true,"duplicate":true}';
const unroutedMessage = "webhook of unknown type kept in the unrouted queue";

function logFields(envelope: { id: string; type: string }, queue: QueueName, outcome: string) {
  return { eventId: envelope.id, type: envelope.type, queue, outcome };
}

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

  const failureStreak = new EnqueueFailureStreak(app.log, () => {
    metrics.redisOutages.inc();
  });
  // Imported once: an HMAC keyed with a string imports the key on every request.
  const secretKeys = secrets.map(secretKey);
  // The series a delivery touches, bound once: no label object per request, and the two counters
  // every delivery increments are plain numbers until a scrape.
  const outcomes = {
    accepted: metrics.deferredRequests.bind({ outcome: "accepted" }),
    duplicate: metrics.deferredRequests.bind({ outcome: "duplicate" }),
    unrouted: metrics.deferredRequests.bind({ outcome: "unrouted" }),
  };
  const perQueue = new Map(
    allQueueNames.map((queue) => [
      queue,
      {
        enqueueSeconds: metrics.enqueueSeconds.labels({ queue }),
        duplicates: metrics.duplicates.labels({ queue }),
      },
    ]),
  );
  const secretMatches = secrets.map((_secret, index) =>
    metrics.deferredSecretMatches.bind({ secret_index: String(index) }),
  );

  app.post(WEBHOOK_PATH, async (request, reply) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const verification = verify({
      payload: body,
      header: request.headers[SIGNATURE_HEADER],
      secrets: secretKeys,
      toleranceSeconds,
      now: now?.(),
    });
    if (!verification.ok) throw signatureError(verification.reason);
    secretMatches[verification.secretIndex]?.inc();

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

    const startedAt = performance.now();
    let result;
    try {
      result = await withTimeout(producer.enqueue(envelope), enqueueTimeoutMs);
    } catch (error) {
      // While the connection is down every delivery fails the same way; the outage has its line.
      if (redisIsUp()) {
        failureStreak.failed(routeEventType(envelope.type).queueName, error, {
          eventId: envelope.id,
          type: envelope.type,
        });
      }
      throw new IngestError("INGEST_UNAVAILABLE", "event could not be stored; retry later");
    }
    failureStreak.succeeded(result.queueName);
    const queueMetrics = queueSeries(result.queueName);
    queueMetrics.enqueueSeconds.observe((performance.now() - startedAt) / 1000);

    const outcome = result.duplicate ? "duplicate" : result.known ? "accepted" : "unrouted";
    outcomes[outcome].inc();
    if (result.duplicate) queueMetrics.duplicates.inc();
    // One line per delivery would be tens of thousands a second during a drop: the metrics count
    // them and the job itself is the record, so accepted deliveries log at debug.
    if (result.known) {
      request.log.debug(logFields(envelope, result.queueName, outcome), "webhook received");
    } else {
      request.log.warn(logFields(envelope, result.queueName, outcome), unroutedMessage);
    }

    return reply
      .code(200)
      .type("application/json")
      .send(result.duplicate ? RECEIVED_DUPLICATE : RECEIVED);
  });

  /** A queue's bound series; a queue outside the catalogue's list gets its own on first use. */
  function queueSeries(queue: QueueName) {
    let series = perQueue.get(queue);
    if (!series) {
      series = {
        enqueueSeconds: metrics.enqueueSeconds.labels({ queue }),
        duplicates: metrics.duplicates.labels({ queue }),
      };
      perQueue.set(queue, series);
    }
    return series;
  }

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
