import type { SimulationResult } from "./run-simulation.ts";

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const LIST_LIMIT = 20;

function limited<T>(items: readonly T[], line: (item: T) => string): string[] {
  const lines = items.slice(0, LIST_LIMIT).map((item) => `  ${line(item)}`);
  if (items.length > LIST_LIMIT) lines.push(`  … and ${items.length - LIST_LIMIT} more`);
  return lines;
}

/** One line of the rows table: its header or a check, each column under its label. */
const rowsLine = (name: string, expected: string, actual: string, outcome: string) =>
  `  ${name.padEnd(32)} ${expected.padStart(8)} ${actual.padStart(8)}  ${outcome}`;

/** The simulation's outcome as the lines `fanfare-relay simulate` prints. */
export function formatReport({
  drop,
  stats,
  settling,
  landed,
  verdict,
}: SimulationResult): string[] {
  const answers = Object.entries(stats.answers)
    .map(([status, count]) => `${status} ×${count}`)
    .join(", ");
  const statuses = [...landed.eventStatus.values()].reduce<Record<string, number>>(
    (counts, status) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }),
    {},
  );
  const lines = [
    `drop      ${drop.experienceId}: ${drop.expected.consumers} consumers, ` +
      `${drop.events.length} events (seed ${drop.seed})`,
    `sender    ${stats.deliveries} deliveries in ${seconds(stats.elapsedMs)}: ` +
      `${stats.attempts} attempts, ${stats.retries} retries, ${stats.failed} failed; ` +
      `answers ${answers}; ${stats.answeredDuplicate} answered duplicate`,
    `settled   ${settling.settled} of ${settling.awaited} delivered events completed or dead` +
      ` after ${seconds(settling.waitedMs)}` +
      (settling.timedOut ? ` (gave up waiting; ${settling.pendingMails} mails still pending)` : ""),
    `events    ${
      Object.entries(statuses)
        .map(([status, count]) => `${status} ${count}`)
        .join(", ") || "none in webhook_events"
    }`,
    `rows      this drop's only; mails counted unless cancelled`,
    rowsLine("row", "expected", "actual", "outcome"),
    ...verdict.checks.map((check) =>
      rowsLine(
        check.name,
        `${check.rule === "at most" ? "≤ " : ""}${check.expected}`,
        String(check.actual),
        check.outcome === "ok" ? "ok" : check.outcome.toUpperCase(),
      ),
    ),
    `emails    ${
      landed.emails.map((row) => `${row.template} ${row.status} ${row.count}`).join(", ") || "none"
    }`,
    `dead      ${landed.deadLetters.length === 0 ? "no dead letters" : `${landed.deadLetters.length} dead letters`}`,
    ...limited(
      landed.deadLetters,
      (letter) =>
        `${letter.eventId} ${letter.type}${letter.resolved ? " (resolved)" : ""}: ${letter.error}`,
    ),
  ];
  if (verdict.lost.length > 0) {
    lines.push(`lost      delivered (2xx) but not completed:`);
    lines.push(
      ...limited(verdict.lost, (event) => `${event.eventId} ${event.type}: ${event.state}`),
    );
  }
  if (verdict.repeatedMails.length > 0) {
    lines.push(`doubled   mails per recipient and template:`);
    lines.push(
      ...limited(verdict.repeatedMails, (mail) => `${mail.to} ${mail.template}: ${mail.count}`),
    );
  }
  if (verdict.undelivered.length > 0) {
    lines.push(`undelivered  no 2xx in all attempts:`);
    lines.push(
      ...limited(
        verdict.undelivered,
        (event) => `${event.eventId} ${event.type}: ${event.lastAnswer}`,
      ),
    );
  }
  lines.push(`verdict   ${verdict.summary}`);
  return lines;
}
