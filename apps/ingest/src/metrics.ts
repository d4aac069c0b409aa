import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Outcome label of `fanfare_ingest_requests_total`: one per row of the endpoint table. */
export type RequestOutcome =
  | "accepted"
  | "duplicate"
  | "unrouted"
  | "unauthorized"
  | "bad_request"
  | "too_large"
  | "unsupported_media_type"
  | "method_not_allowed"
  | "unavailable"
  | "error";

export interface IngestMetrics {
  registry: Registry;
  requests: Counter<"outcome">;
  enqueueSeconds: Histogram<"queue">;
  duplicates: Counter<"queue">;
  secretMatches: Counter<"secret_index">;
  redisOutages: Counter;
}

export function createIngestMetrics(): IngestMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "fanfare_ingest_" });
  return {
    registry,
    requests: new Counter({
      name: "fanfare_ingest_requests_total",
      help: "Webhook deliveries by outcome",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    enqueueSeconds: new Histogram({
      name: "fanfare_ingest_enqueue_duration_seconds",
      help: "Time from a verified request to Redis acknowledging its job",
      labelNames: ["queue"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    duplicates: new Counter({
      name: "fanfare_ingest_duplicates_total",
      help: "Deliveries of an event id that had already been received",
      labelNames: ["queue"],
      registers: [registry],
    }),
    secretMatches: new Counter({
      name: "fanfare_ingest_signature_secret_matches_total",
      help: "Verified deliveries by the index of the secret in FANFARE_WEBHOOK_SECRETS that matched",
      labelNames: ["secret_index"],
      registers: [registry],
    }),
    redisOutages: new Counter({
      name: "fanfare_ingest_redis_outages_total",
      help: "Times the connection to Redis was lost (each outage is also one error log line)",
      registers: [registry],
    }),
  };
}
