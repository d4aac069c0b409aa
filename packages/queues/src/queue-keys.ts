/**
 * The BullMQ `prefix` of one queue: `<prefix>:{<queue>}`. Redis Cluster hashes a key by the first
 * `{…}` in it (the hash tag), so every key of a queue lands in one slot, which BullMQ's Lua
 * scripts need, and each queue gets a slot of its own, so the queues spread over the cluster's
 * masters instead of sharing one (BullMQ's "Redis Cluster" guide). One layout on every kind of
 * Redis: a single node ignores the braces.
 *
 * `prefix` is `REDIS_PREFIX` and must not itself contain `{` or `}`: a hash tag of its own would
 * put every queue back in one slot.
 */
export function bullPrefix(prefix: string, queueName: string): string {
  return `${prefix}:{${queueName}}`;
}

/**
 * What every key of one queue starts with: `<prefix>:{<queue>}:<queue>`, BullMQ's own keys
 * (`…:wait`, `…:meta`, `…:<job id>`) and the project's next to them (`…:seen:<job id>`,
 * `…:failure-rate:<type>`, `…:dead-letters:alerted`), all in the queue's slot.
 */
export function queueKeyBase(prefix: string, queueName: string): string {
  return `${bullPrefix(prefix, queueName)}:${queueName}`;
}

/** True when `prefix` can be used as REDIS_PREFIX (no hash tag of its own). */
export function isValidPrefix(prefix: string): boolean {
  return prefix.length > 0 && !/[{}]/.test(prefix);
}

/**
 * One key in each queue's slot (`…:meta`), for readiness probes that must reach the master of
 * every queue's slot (`pingRedis`).
 */
export function slotProbeKeys(prefix: string, queueNames: readonly string[]): string[] {
  return queueNames.map((name) => `${queueKeyBase(prefix, name)}:meta`);
}
