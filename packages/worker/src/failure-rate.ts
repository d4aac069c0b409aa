import type { RedisConnection } from "@fanfare-relay/queues/redis-connection";

export interface FailureRateOptions {
  redis: RedisConnection;
  /** Key prefix, shared by every replica so the count is the fleet's, not one process's. */
  prefix: string;
  /** Alert when more than this many failures of one type happen within the window. */
  threshold: number;
  windowMs: number;
}

export interface FailureRateCheck {
  count: number;
  /** True for the one failure that crosses the threshold first in a window, fleet-wide. */
  alert: boolean;
}

/** A sliding window per event type in a Redis sorted set. */
export class FailureRateMonitor {
  constructor(private readonly options: FailureRateOptions) {}

  async record(type: string, failureId: string, now = Date.now()): Promise<FailureRateCheck> {
    const { redis, prefix, threshold, windowMs } = this.options;
    const key = `${prefix}:failure-rate:${type}`;
    const results = await redis
      .multi()
      .zadd(key, now, `${failureId}:${String(now)}`)
      .zremrangebyscore(key, 0, now - windowMs)
      .zcard(key)
      .pexpire(key, windowMs)
      .exec();
    const count = Number(results?.[2]?.[1] ?? 0);
    if (count <= threshold) return { count, alert: false };
    // One alert per type per window, whichever replica sees the crossing first.
    const first = await redis.set(`${key}:alerted`, "1", "PX", windowMs, "NX");
    return { count, alert: first === "OK" };
  }
}
