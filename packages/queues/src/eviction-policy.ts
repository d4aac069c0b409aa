import { Cluster, type Redis } from "ioredis";

/** The only `maxmemory-policy` under which Redis never drops a BullMQ key (BullMQ's own docs). */
export const SAFE_EVICTION_POLICY = "noeviction";

export interface EvictionPolicyReading {
  /** Redis's `maxmemory-policy`, or undefined when neither CONFIG GET nor INFO answered. */
  policy: string | undefined;
  /** Where it was read: `config` (CONFIG GET), `info` (INFO memory, for managed Redis that forbids CONFIG), `none`. */
  source: "config" | "info" | "none";
  /** On a cluster, the master (`host:port`) the policy was read from. */
  node?: string;
}

export type EvictionPolicyState =
  /** Not read yet (Redis not reached since start): deliveries must wait. */
  | { status: "unknown" }
  | { status: "safe"; policy: string }
  /** A policy that may evict keys: an acknowledged event could vanish. */
  | { status: "unsafe"; policy: string; allowed: boolean };

type PolicySource = Pick<Redis, "config" | "info"> | Cluster;

/**
 * Reads Redis's eviction policy: `CONFIG GET maxmemory-policy` first, then `INFO memory`'s
 * `maxmemory_policy` line for managed services that rename or forbid CONFIG. On a cluster every
 * master is read and the first one that may evict wins (`node` names it): one such node is enough
 * to lose the jobs of the queues it holds. Never throws: a Redis that answers neither gives
 * `{ policy: undefined, source: "none" }`.
 */
export async function readEvictionPolicy(redis: PolicySource): Promise<EvictionPolicyReading> {
  if (redis instanceof Cluster) return readClusterPolicy(redis);
  return readNodePolicy(redis);
}

async function readClusterPolicy(cluster: Cluster): Promise<EvictionPolicyReading> {
  const masters = cluster.nodes("master");
  const readings = await Promise.all(
    masters.map(async (node) => ({
      ...(await readNodePolicy(node)),
      node: `${node.options.host ?? "?"}:${String(node.options.port ?? "?")}`,
    })),
  );
  const unsafe = readings.find(
    (reading) => reading.policy !== undefined && reading.policy !== SAFE_EVICTION_POLICY,
  );
  if (unsafe) return unsafe;
  // Safe only when every master answered; one that did not keeps the last known state.
  if (readings.length > 0 && readings.every((reading) => reading.policy !== undefined)) {
    return readings[0] ?? { policy: undefined, source: "none" };
  }
  return { policy: undefined, source: "none" };
}

async function readNodePolicy(
  redis: Pick<Redis, "config" | "info">,
): Promise<EvictionPolicyReading> {
  try {
    const reply = await redis.config("GET", "maxmemory-policy");
    if (Array.isArray(reply) && typeof reply[1] === "string") {
      return { policy: reply[1], source: "config" };
    }
  } catch {
    // Forbidden or renamed on many managed services: INFO still tells.
  }
  try {
    const info = await redis.info("memory");
    const match = /^maxmemory_policy:(\S+)/m.exec(info);
    if (match?.[1] !== undefined) return { policy: match[1], source: "info" };
  } catch {
    // Unreachable: the caller keeps what it knew.
  }
  return { policy: undefined, source: "none" };
}

export interface EvictionPolicyWatchOptions {
  /** One node (or Sentinel's primary), or a cluster: then every master is read. */
  redis: PolicySource;
  /** How often the policy is read again, in ms (an operator can change it at run time). */
  intervalMs?: number;
  /**
   * The operator accepts that Redis may evict keys (e.g. `REDIS_ALLOW_EVICTION=true`): the state is
   * still `unsafe`, with `allowed: true`, so callers keep working but can still say so.
   */
  allowEviction?: boolean;
  /** Called on the first reading and whenever the state changes (not on every reading). */
  onChange?: (state: EvictionPolicyState, reading: EvictionPolicyReading) => void;
}

/**
 * Keeps an eye on Redis's eviction policy: at start, on every reconnect (call `check()`), and every
 * `intervalMs`. A failed reading keeps the last known state: an unreachable Redis is the connection's
 * problem, reported elsewhere.
 */
export class EvictionPolicyWatch {
  #state: EvictionPolicyState = { status: "unknown" };
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<EvictionPolicyState> | undefined;

  constructor(private readonly options: EvictionPolicyWatchOptions) {}

  get state(): EvictionPolicyState {
    return this.#state;
  }

  /** True when deliveries may be stored: the policy is noeviction, or eviction was allowed. */
  get acceptsWrites(): boolean {
    const state = this.#state;
    return state.status === "safe" || (state.status === "unsafe" && state.allowed);
  }

  /** Reads the policy now; concurrent calls share one reading. */
  check(): Promise<EvictionPolicyState> {
    this.#inFlight ??= this.#read().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  start(): void {
    void this.check();
    this.#timer = setInterval(() => void this.check(), this.options.intervalMs ?? 30_000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #read(): Promise<EvictionPolicyState> {
    const reading = await readEvictionPolicy(this.options.redis);
    if (reading.policy === undefined) return this.#state;
    const next: EvictionPolicyState =
      reading.policy === SAFE_EVICTION_POLICY
        ? { status: "safe", policy: reading.policy }
        : {
            status: "unsafe",
            policy: reading.policy,
            allowed: this.options.allowEviction ?? false,
          };
    const previous = this.#state;
    this.#state = next;
    const changed =
      previous.status !== next.status || ("policy" in previous && previous.policy !== next.policy);
    if (changed) this.options.onChange?.(next, reading);
    return next;
  }
}
