// The check behind "nothing acknowledged vanishes": every event a server answered 2xx for must be
// a job in Redis, under the job id the project derives from the event id.
import { familyQueueNames } from "@fanfare-relay/events/families";
import { jobIdForEvent } from "@fanfare-relay/queues/job-id";
import type { Redis } from "ioredis";
import { queueKeyBase } from "@fanfare-relay/queues/queue-keys";

const BATCH = 1_000;

/**
 * How many of `eventIds` have no job hash at `<prefix>:<queueName>:<job id>` (0 when every
 * acknowledged event was stored). One pipelined EXISTS per id, `BATCH` at a time.
 */
export async function countMissingJobs(
  redis: Redis,
  prefix: string,
  eventIds: readonly string[],
  queueName: string = familyQueueNames.queue,
): Promise<number> {
  let missing = 0;
  for (let start = 0; start < eventIds.length; start += BATCH) {
    const pipeline = redis.pipeline();
    for (const id of eventIds.slice(start, start + BATCH)) {
      pipeline.exists(`${queueKeyBase(prefix, queueName)}:${jobIdForEvent(id)}`);
    }
    for (const [error, exists] of (await pipeline.exec()) ?? []) {
      if (error !== null) throw error;
      if (exists !== 1) missing += 1;
    }
  }
  return missing;
}
