import type { EvictionPolicyState } from "@fanfare-relay/queues/eviction-policy";
import type { DatabaseState } from "./database-readiness.ts";
import type { ReadinessProblem } from "./health-server.ts";

export interface WorkerConditions {
  shuttingDown: boolean;
  /** ioredis's `status` of the worker's connection (`ready` when usable). */
  redisStatus: string;
  database: DatabaseState;
  eviction: EvictionPolicyState;
  /** `REDIS_ALLOW_EVICTION`: the operator accepts a policy that may evict, or one never read. */
  allowEviction: boolean;
  /** The fetch watchdog found the run loop hung: the process is restarting. */
  stalled: boolean;
}

/** The fix an operator needs, in one sentence; shared by the log line and `/readyz`. */
export function evictionPolicyMessage(policy: string): string {
  return (
    `Redis maxmemory-policy is ${policy}: Redis may evict queued jobs, and events the ingest ` +
    `acknowledged would vanish. Fix: set maxmemory-policy noeviction (CONFIG SET maxmemory-policy ` +
    `noeviction and in redis.conf or the provider's settings), or set REDIS_ALLOW_EVICTION=true ` +
    `to accept the risk`
  );
}

/**
 * Why `/readyz` fails while the policy has not been read: the same words as the ingest's
 * `redis_policy_unknown` reason, then the fix.
 */
export const evictionPolicyUnknownMessage =
  "Redis maxmemory-policy not read yet (neither CONFIG GET nor INFO memory answered): " +
  "allow the worker's Redis user CONFIG GET or INFO, or set REDIS_ALLOW_EVICTION=true to accept " +
  "that queued jobs may be evicted";

/** A worker whose run loop no longer takes jobs; `/healthz` and `/readyz` both answer it. */
export const stalledProblem: ReadinessProblem = Object.freeze({
  code: "WORKER_STALLED",
  message: "the worker stopped taking jobs (jobs wait, none started); restarting",
});

/**
 * Every reason a worker is not ready, in the order an operator should look at them; empty when
 * it is. Like the ingest, it fails closed: a policy not read yet (neither `CONFIG GET` nor
 * `INFO memory` answered) is a reason, as is one that may evict, unless `allowEviction`.
 */
export function readinessProblems(conditions: WorkerConditions): ReadinessProblem[] {
  const problems: ReadinessProblem[] = [];
  if (conditions.stalled) problems.push(stalledProblem);
  if (conditions.shuttingDown) {
    problems.push({ code: "WORKER_SHUTTING_DOWN", message: "shutting down" });
  }
  if (conditions.redisStatus !== "ready") {
    problems.push({
      code: "WORKER_REDIS_UNAVAILABLE",
      message: `redis connection ${conditions.redisStatus}`,
    });
  }
  const { database, eviction } = conditions;
  if (database.status === "unknown") {
    problems.push({ code: "WORKER_DATABASE_UNAVAILABLE", message: "database not checked yet" });
  } else if (database.status === "unreachable") {
    const { reason, code, hint } = database.problem;
    problems.push({
      code: "WORKER_DATABASE_UNAVAILABLE",
      message: `database unreachable: ${reason} (${code}); ${hint}`,
    });
  }
  if (eviction.status === "unsafe" && !eviction.allowed) {
    problems.push({
      code: "WORKER_REDIS_EVICTION_POLICY",
      message: evictionPolicyMessage(eviction.policy),
    });
  } else if (
    eviction.status === "unknown" &&
    !conditions.allowEviction &&
    conditions.redisStatus === "ready"
  ) {
    // Not while Redis is unreachable: WORKER_REDIS_UNAVAILABLE already says why.
    problems.push({ code: "WORKER_REDIS_POLICY_UNKNOWN", message: evictionPolicyUnknownMessage });
  }
  return problems;
}
