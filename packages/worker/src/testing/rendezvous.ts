import type { Database } from "@fanfare-relay/db/schema";
import { sql, type Kysely } from "kysely";
import { setTimeout as delay } from "node:timers/promises";
import type { BatchHandler, EventHandler } from "../handler.ts";

/**
 * A meeting point for `parties` concurrent transactions, to force the interleaving where each has
 * done its reads and writes before any commits (the READ COMMITTED race). `arrive()` resolves once
 * every party has arrived — or once every party that has not is waiting on a lock in PostgreSQL:
 * then a lock already serialises them, and waiting longer would hang the test. Polls every 5 ms;
 * rejects after `timeoutMs`.
 */
export function transactionRendezvous(
  db: Kysely<Database>,
  parties: number,
  timeoutMs = 10_000,
): { arrive: () => Promise<void> } {
  let arrived = 0;
  const blockedOnLocks = async () => {
    const { rows } = await sql<{ blocked: string }>`
      SELECT count(*) AS blocked FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(db);
    return Number(rows[0]?.blocked ?? 0);
  };
  return {
    async arrive() {
      arrived += 1;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const missing = parties - arrived;
        if (missing <= 0 || (await blockedOnLocks()) >= missing) return;
        if (Date.now() > deadline) throw new Error(`rendezvous: ${String(missing)} never came`);
        await delay(5);
      }
    },
  };
}

type AnyHandler = EventHandler<never> | BatchHandler<never>;

/** Handler maps whose handlers (one at a time or batch) wait at `arrive` after their work. */
export function holdBeforeCommit<M extends object>(handlers: M, arrive: () => Promise<void>): M {
  const held: Record<string, AnyHandler> = {};
  for (const [type, handler] of Object.entries(handlers) as [string, AnyHandler][]) {
    held[type] =
      "applyBatch" in handler
        ? {
            applyBatch: async (context) => {
              await handler.applyBatch(context);
              await arrive();
            },
          }
        : async (context) => {
            await handler(context);
            await arrive();
          };
  }
  return held as unknown as M;
}
