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

/** One series of a counter, counted as a plain number until the next scrape (see deferredCounts). */
export interface DeferredCount {
  inc(): void;
}

/**
 * Increments of a counter's series kept as plain numbers and added to the counter when it is
 * collected (every `/metrics` scrape, or `counter.get()`): the exposition is the same, but a
 * delivery pays a `+= 1` instead of prom-client hashing and validating its labels. For series
 * touched on every request; rarer ones call `inc` on the counter itself.
 */
export class DeferredCounts<T extends string> {
  readonly #series: { labels: Partial<Record<T, string>>; pending: number }[] = [];

  /** A series of the counter, by its labels; bind once, increment per request. */
  bind(labels: Partial<Record<T, string>>): DeferredCount {
    const series = { labels, pending: 0 };
    this.#series.push(series);
    return {
      inc() {
        series.pending += 1;
      },
    };
  }

  /** Adds what was counted since the last flush to `counter`. */
  flush(counter: Counter<T>): void {
    for (const series of this.#series) {
      if (series.pending === 0) continue;
      counter.inc(series.labels, series.pending);
      series.pending = 0;
    }
  }
}

export interface IngestMetrics {
  registry: Registry;
  requests: Counter<"outcome">;
  enqueueSeconds: Histogram<"queue">;
  duplicates: Counter<"queue">;
  secretMatches: Counter<"secret_index">;
  redisOutages: Counter;
  /** Per-request series of `requests`, flushed into it on every collection. */
  deferredRequests: DeferredCounts<"outcome">;
  /** Per-request series of `secretMatches`, flushed into it on every collection. */
  deferredSecretMatches: DeferredCounts<"secret_index">;
}

export function createIngestMetrics(): IngestMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "fanfare_ingest_" });
  const deferredRequests = new DeferredCounts<"outcome">();
  const deferredSecretMatches = new DeferredCounts<"secret_index">();
  return {
    registry,
    deferredRequests,
    deferredSecretMatches,
    requests: new Counter({
      name: "fanfare_ingest_requests_total",
      help: "Webhook deliveries by outcome",
      labelNames: ["outcome"],
      registers: [registry],
      collect() {
        deferredRequests.flush(this);
      },
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
      collect() {
        deferredSecretMatches.flush(this);
      },
    }),
    redisOutages: new Counter({
      name: "fanfare_ingest_redis_outages_total",
      help: "Redis outages: the connection lost, or a queue's enqueues starting to fail while it stays up (a dead cluster node); each is also one log line",
      registers: [registry],
    }),
  };
}
