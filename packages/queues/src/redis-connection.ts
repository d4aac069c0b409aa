import { Redis, type RedisOptions } from "ioredis";

/**
 * A producer must answer its caller quickly: with the offline queue off, a command sent while Redis
 * is unreachable fails at once instead of waiting for a reconnect, so the ingest can answer 503 and
 * let the sender retry. Reconnection still happens in the background.
 */
export function createProducerConnection(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // Under load many requests enqueue in the same tick; one socket write for all of them
    // instead of one each is most of the ingest's throughput.
    enableAutoPipelining: true,
    connectTimeout: 5_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    ...options,
  });
}

/**
 * Workers block on Redis and must ride out outages: BullMQ requires `maxRetriesPerRequest: null`
 * for them, and commands wait in the offline queue until the connection is back.
 */
export function createWorkerConnection(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    connectTimeout: 10_000,
    retryStrategy: (times) => Math.min(2 ** times * 100, 20_000),
    ...options,
  });
}

/** Redacts the password of a Redis URL so it can be logged. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable url)";
  }
}
