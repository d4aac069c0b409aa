import type { Drop } from "./drop.ts";
import type { Landed } from "./landed.ts";
import type { DeliveryReport } from "./sender.ts";

export interface Check {
  name: string;
  expected: number;
  actual: number;
  /** "exact": the drop determines the count; "at most": fewer is legitimate (skipped mails). */
  rule: "exact" | "at most";
  outcome: "ok" | "missing" | "doubled";
}

export interface Verdict {
  ok: boolean;
  /** Answered 2xx at least once, yet not completed: missing from webhook_events, failing or dead. */
  lost: { eventId: string; type: string; state: string }[];
  /** No 2xx in all attempts: the sender gave up, so the relay never had them. */
  undelivered: { eventId: string; type: string; lastAnswer: string }[];
  checks: Check[];
  /** Recipient × template pairs mailed more than once (each is at most one logical email here). */
  repeatedMails: Landed["repeatedMails"];
  summary: string;
}

interface EventHead {
  id: string;
  type: string;
}

function check(name: string, expected: number, actual: number, rule: Check["rule"]): Check {
  const outcome =
    actual > expected ? "doubled" : rule === "exact" && actual < expected ? "missing" : "ok";
  return { name, expected, actual, rule, outcome };
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`;

/** Compares what landed with what the drop must cause; any loss or doubling fails the run. */
export function judge(
  drop: Drop,
  reports: readonly DeliveryReport<EventHead>[],
  landed: Landed,
): Verdict {
  const delivered = new Set(reports.filter((r) => r.delivered).map((r) => r.event.id));
  const lost = drop.events
    .filter((event) => delivered.has(event.id))
    .map((event) => ({
      eventId: event.id,
      type: event.type,
      state: landed.eventStatus.get(event.id) ?? "missing",
    }))
    .filter((event) => event.state !== "completed");
  const undelivered = drop.events
    .filter((event) => !delivered.has(event.id))
    .map((event) => {
      const last = reports
        .filter((r) => r.event.id === event.id)
        .at(-1)
        ?.attempts.at(-1);
      const lastAnswer =
        last === undefined ? "never sent" : `${last.status ?? "no answer"} ${last.body}`.trim();
      return { eventId: event.id, type: event.type, lastAnswer };
    });

  const { expected } = drop;
  const completed = [...landed.eventStatus.values()].filter((s) => s === "completed").length;
  const admissions = Object.values(landed.admissions).reduce((sum, n) => sum + n, 0);
  const winners = Object.values(landed.drawWinners).reduce((sum, n) => sum + n, 0);
  const checks: Check[] = [
    check("webhook_events completed", expected.events, completed, "exact"),
    check("consumers", expected.consumers, landed.consumers, "exact"),
    check("experiences", expected.experiences, landed.experiences, "exact"),
    check("queue_participants", expected.queueParticipants, landed.queueParticipants, "exact"),
    check("admissions", expected.admissions, admissions, "exact"),
    check(
      "admissions completed",
      expected.admissionsCompleted,
      landed.admissions.completed ?? 0,
      "exact",
    ),
    check(
      "admissions expired",
      expected.admissionsExpired,
      landed.admissions.expired ?? 0,
      "exact",
    ),
    check("draw_entries", expected.drawEntries, landed.drawEntries, "exact"),
    check("draw_winners", expected.drawWinners, winners, "exact"),
    check("draw_winners claimed", expected.prizesClaimed, landed.drawWinners.claimed ?? 0, "exact"),
    check("draw_winners expired", expected.prizesExpired, landed.drawWinners.expired ?? 0, "exact"),
    check("auctions", expected.auctions, landed.auctions, "exact"),
    check("auction_bids", expected.auctionBids, landed.auctionBids, "exact"),
    check("analytics_events", expected.analyticsEvents, landed.analyticsEvents, "exact"),
    ...Object.entries(expected.maxEmails).map(([template, max]) => {
      const queued = landed.emails
        .filter((row) => row.template === template && row.status !== "cancelled")
        .reduce((sum, row) => sum + row.count, 0);
      return check(`email_outbox ${template}`, max, queued, "at most");
    }),
  ];

  const missing = checks.filter((c) => c.outcome === "missing").length;
  const doubled =
    checks.filter((c) => c.outcome === "doubled").length + landed.repeatedMails.length;
  const ok = lost.length === 0 && undelivered.length === 0 && missing === 0 && doubled === 0;
  const problems = [
    lost.length > 0 ? `${plural(lost.length, "event")} lost` : "",
    missing > 0 ? `${plural(missing, "count")} short of the drop` : "",
    doubled > 0 ? plural(doubled, "doubled effect") : "",
    undelivered.length > 0 ? `${plural(undelivered.length, "event")} never delivered` : "",
  ].filter((problem) => problem !== "");
  return {
    ok,
    lost,
    undelivered,
    checks,
    repeatedMails: landed.repeatedMails,
    summary: ok ? "OK: nothing lost, nothing doubled" : `FAILED: ${problems.join(", ")}`,
  };
}
