/**
 * Approximate length of each queue's events stream (`<prefix>:<queue>:events`; BullMQ trims it
 * with `XADD … MAXLEN ~`, so it may hold up to about a hundred entries more). BullMQ appends an
 * entry on every change of a job's state (added, waiting, active, completed, retries …) and keeps
 * 10,000 by default, about 0.7 MB per queue that nothing here reads: the project has no
 * QueueEvents listener, and Bull Board reads the jobs themselves. 1,000 keeps the last few hundred
 * jobs' history for `XREVRANGE` when debugging. The appends themselves cost the same whatever the
 * length: approximate trimming drops whole stream nodes.
 */
export const EVENTS_STREAM_MAX_LEN = 1_000;

/**
 * Options every BullMQ `Queue` opened on the project's queues must pass (the producer's, the
 * workers' own, the dashboard's and the CLI's): each `Queue` writes `opts.maxLenEvents` to the
 * queue's meta hash when it starts, so a `Queue` without them puts BullMQ's 10,000 back until the
 * next one starts. Shape: `{ streams: { events: { maxLen } } }`, spread into `QueueOptions`.
 */
export const sharedQueueOptions = {
  streams: { events: { maxLen: EVENTS_STREAM_MAX_LEN } },
} as const;
