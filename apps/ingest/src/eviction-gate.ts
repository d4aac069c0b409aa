import {
  EvictionPolicyWatch,
  SAFE_EVICTION_POLICY,
  type EvictionPolicyState,
  type EvictionPolicyReading,
} from "@fanfare-relay/queues/eviction-policy";
import type { FastifyBaseLogger } from "fastify";
import type { RedisConnection } from "@fanfare-relay/queues/redis-connection";
import { IngestError } from "./errors.ts";

export const DEFAULT_EVICTION_CHECK_INTERVAL_MS = 30_000;

export interface EvictionGateOptions {
  /** One node, Sentinel's primary, or a cluster (every master's policy is read). */
  redis: RedisConnection;
  logger: FastifyBaseLogger;
  /** `REDIS_ALLOW_EVICTION`: the operator accepts that Redis may evict stored events. */
  allowEviction: boolean;
  /** How often the policy is read again, in ms. */
  intervalMs: number;
}

/** What /readyz reports while deliveries are refused because of the policy. */
export interface PolicyNotReady {
  status: "redis_policy_unknown" | "redis_may_evict";
  reason: string;
}

const FIX = `set maxmemory-policy to ${SAFE_EVICTION_POLICY} (CONFIG SET maxmemory-policy ${SAFE_EVICTION_POLICY}, and in redis.conf or the provider's parameter group), or set REDIS_ALLOW_EVICTION=true to accept that stored events may be evicted`;

/**
 * Refuses deliveries while Redis may evict keys: under any `maxmemory-policy` but `noeviction`,
 * Redis drops keys when memory runs out, and a job the ingest acknowledged would vanish (a Redis
 * with `maxmemory 3mb` and `allkeys-lru` lost about 2/3 of 3,000 acknowledged events). The policy
 * is read at start, on every (re)connection and every `intervalMs`; until it has been read once,
 * deliveries are refused too (fail closed), unless `allowEviction`.
 */
export class EvictionGate {
  readonly #watch: EvictionPolicyWatch;
  /** ` on <host:port>` of the cluster master the last reading came from, else empty. */
  #where = "";
  readonly #options: EvictionGateOptions;
  readonly #onReady = () => void this.#watch.check();

  constructor(options: EvictionGateOptions) {
    this.#options = options;
    this.#watch = new EvictionPolicyWatch({
      redis: options.redis,
      intervalMs: options.intervalMs,
      allowEviction: options.allowEviction,
      onChange: (state, reading) => {
        this.#report(state, reading);
      },
    });
  }

  /** Reads the policy now and keeps reading it; resolves after the first reading (or failure). */
  async start(): Promise<void> {
    const { allowEviction, logger, redis } = this.#options;
    if (allowEviction) {
      logger.warn(
        "REDIS_ALLOW_EVICTION=true: deliveries are accepted whatever Redis's maxmemory-policy; under any policy but noeviction, Redis may evict events the ingest has acknowledged",
      );
    }
    redis.on("ready", this.#onReady);
    this.#watch.start();
    await this.#watch.check();
  }

  stop(): void {
    this.#watch.stop();
    this.#options.redis.off("ready", this.#onReady);
  }

  /** Reads the policy again unless deliveries are already accepted (for /readyz). */
  async refresh(): Promise<void> {
    if (!this.#accepts()) await this.#watch.check();
  }

  /** The error a delivery gets now, or undefined when it may be stored. */
  refusal(): IngestError | undefined {
    if (this.#accepts()) return undefined;
    return this.#watch.state.status === "unknown"
      ? new IngestError(
          "INGEST_UNAVAILABLE",
          "Redis's maxmemory-policy has not been read yet; retry later",
        )
      : new IngestError(
          "INGEST_REDIS_MAY_EVICT",
          "Redis is configured to evict keys (maxmemory-policy), so events cannot be stored safely; retry later",
        );
  }

  /** Why /readyz fails because of the policy, or undefined when it does not. */
  notReady(): PolicyNotReady | undefined {
    if (this.#accepts()) return undefined;
    const state = this.#watch.state;
    return state.status === "unsafe"
      ? {
          status: "redis_may_evict",
          reason: `Redis maxmemory-policy is ${state.policy}${this.#where}: ${FIX}`,
        }
      : {
          status: "redis_policy_unknown",
          reason:
            "Redis maxmemory-policy not read yet (neither CONFIG GET nor INFO memory answered)",
        };
  }

  #accepts(): boolean {
    return this.#options.allowEviction || this.#watch.acceptsWrites;
  }

  #report(state: EvictionPolicyState, reading: EvictionPolicyReading): void {
    const { logger } = this.#options;
    // On a cluster, the master whose policy it is.
    this.#where = reading.node === undefined ? "" : ` on ${reading.node}`;
    const fields = {
      maxmemoryPolicy: reading.policy,
      source: reading.source,
      ...(reading.node === undefined ? {} : { node: reading.node }),
    };
    if (state.status === "unsafe" && !state.allowed) {
      // The one line an operator needs: what is wrong, what happens, how to fix it.
      logger.error(
        fields,
        `Redis maxmemory-policy is ${state.policy}${this.#where}: Redis may evict stored events, so deliveries are refused with 503 INGEST_REDIS_MAY_EVICT and /readyz fails. Fix: ${FIX}`,
      );
    } else if (state.status === "unsafe") {
      logger.warn(
        fields,
        `Redis maxmemory-policy is ${state.policy}: Redis may evict stored events; accepted because REDIS_ALLOW_EVICTION=true`,
      );
    } else {
      logger.info(fields, "Redis maxmemory-policy is noeviction: deliveries accepted");
    }
  }
}
