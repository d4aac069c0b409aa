import { Redis } from "ioredis";
import { redactUrl } from "./connection-options.ts";
import { CliError } from "./cli-error.ts";
import { errorMessage, withTimeout } from "./with-timeout.ts";

/**
 * A connection for a short-lived command: it fails fast instead of waiting for Redis to come back
 * (no reconnects, no offline queue, every command bounded by `timeoutMs`).
 */
export async function openRedis(url: string, timeoutMs: number): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    // A server that never answers must not hold the process for ioredis's default 2 s on close.
    disconnectTimeout: 200,
  });
  // Failures surface through connect() and the commands; without a listener ioredis would log them.
  redis.on("error", () => undefined);
  const where = redactUrl(url);
  try {
    // connectTimeout covers the TCP connection only, not a server that never answers.
    await withTimeout(redis.connect(), timeoutMs, `Redis at ${where}`);
    return redis;
  } catch (error) {
    redis.disconnect();
    if (error instanceof CliError) throw error;
    throw new CliError(
      "CLI_REDIS_UNREACHABLE",
      `Redis at ${where} is unreachable: ${errorMessage(error)}`,
    );
  }
}
