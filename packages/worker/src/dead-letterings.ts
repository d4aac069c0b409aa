import type { RedisConnection } from "@fanfare-relay/queues/redis-connection";

/**
 * How often a job went dead, kept on its own BullMQ hash: BullMQ's `job.retry()` (the dashboard's
 * Retry, the re-drive, the CLI's replay) keeps the hash and its attempt count, so a retried job
 * that fails for good again finds its earlier dead-lettering here, without asking PostgreSQL (the
 * alert must not wait for the database). The fields live exactly as long as the job.
 */
const COUNT_FIELD = "fanfareDeadLetterings";
const ERROR_FIELD = "fanfareDeadError";

// Only on an existing job: a job removed meanwhile must not come back as a hash of two fields.
const NOTE_SCRIPT = `
if redis.call("EXISTS", KEYS[1]) == 0 then return false end
local count = redis.call("HINCRBY", KEYS[1], ARGV[1], 1)
local previous = redis.call("HGET", KEYS[1], ARGV[2])
redis.call("HSET", KEYS[1], ARGV[2], ARGV[3])
if previous then return {count, previous} end
return {count}`;

/** How long a dead-lettering waits for Redis before its alert goes out as a first one. */
const NOTE_TIMEOUT_MS = 2_000;

export interface DeadLettering {
  /** Times the job was retried after going dead before this failure; 0 the first time. */
  retried: number;
  /** The error it went dead with the previous time, if it went dead before. */
  previousError: string | undefined;
}

/**
 * Counts one dead-lettering of the job whose hash is `jobKey` and remembers its error; says how
 * many came before and with which error. Undefined when Redis did not answer in time or the job
 * is gone: the caller then treats the failure as a first one (it pages rather than stays quiet).
 */
export async function noteDeadLettering(
  redis: RedisConnection,
  jobKey: string,
  error: string,
): Promise<DeadLettering | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      resolve(undefined);
    }, NOTE_TIMEOUT_MS);
  });
  const noted = redis
    .eval(NOTE_SCRIPT, 1, jobKey, COUNT_FIELD, ERROR_FIELD, error)
    .then((reply): DeadLettering | undefined => {
      if (!Array.isArray(reply)) return undefined;
      const [count, previous] = reply as unknown[];
      return {
        retried: Math.max(0, Number(count) - 1),
        previousError: typeof previous === "string" ? previous : undefined,
      };
    })
    .catch(() => undefined);
  try {
    return await Promise.race([noted, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
