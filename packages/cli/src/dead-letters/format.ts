import type { DeadLetterRow } from "./queries.ts";

const ERROR_WIDTH = 60;

/** `2025-11-26 09:40:20Z`: second precision is enough to read, and sorts as text. */
const time = (date: Date | null) =>
  date === null
    ? "-"
    : date
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, "Z");

/** One line, at most `width` characters: errors can be long and multi-line. */
export function truncate(text: string, width: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= width ? flat : `${flat.slice(0, width - 1)}…`;
}

/** Left-aligned columns separated by two spaces. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function deadLetterTable(letters: readonly DeadLetterRow[]): string {
  return formatTable(
    ["ID", "EVENT ID", "TYPE", "QUEUE", "FAILED AT", "RETRIES", "RESOLVED AT", "ERROR"],
    letters.map((letter) => [
      String(letter.id),
      letter.event_id,
      letter.type,
      letter.queue_name,
      time(letter.failed_at),
      String(letter.retry_count),
      time(letter.resolved_at),
      truncate(letter.error, ERROR_WIDTH),
    ]),
  );
}

/** For scripts: every column, the full error, ISO times. */
export function deadLetterJson(letters: readonly DeadLetterRow[]): string {
  return JSON.stringify(
    letters.map((letter) => ({
      id: letter.id,
      eventId: letter.event_id,
      type: letter.type,
      queue: letter.queue_name,
      jobId: letter.job_id,
      failedAt: letter.failed_at.toISOString(),
      retryCount: letter.retry_count,
      redrivenAt: letter.redriven_at?.toISOString() ?? null,
      resolvedAt: letter.resolved_at?.toISOString() ?? null,
      error: letter.error,
    })),
    null,
    2,
  );
}
