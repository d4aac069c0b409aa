import type { Database, DeadLetter } from "@fanfare-relay/db/schema";
import type { FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import escapeHtml from "escape-html";
import { boardJobPath } from "../board/board.ts";
import { page } from "../html/layout.ts";

export const DEAD_LETTER_PAGE_SIZE = 500;
const ERROR_PREVIEW_CHARS = 500;

export interface DeadLetterRouteOptions {
  /** Undefined when DATABASE_URL is not set: the page says so. */
  db: Kysely<Database> | undefined;
  /** DASHBOARD_DEMO: the page carries the demo banner, as the board its DEMO badge. */
  demo?: boolean;
}

type Row = Pick<
  DeadLetter,
  "event_id" | "type" | "queue_name" | "job_id" | "error" | "failed_at" | "retry_count"
> & {
  /** From the event's row: the last time an operator changed the job's data, and who. */
  edited_at: Date | null;
  edited_by: string | null;
};

/** A time as the page shows it: date, time and UTC, with the exact ISO 8601 instant. */
const timeHtml = (at: Date) =>
  `<time datetime="${escapeHtml(at.toISOString())}">${escapeHtml(at.toISOString().replace("T", " ").slice(0, 19))} UTC</time>`;

/** Says that the job's data is not what the sender signed: an operator edited it. */
const editedHtml = (row: Row) =>
  row.edited_at === null || row.edited_by === null
    ? ""
    : `edited by ${escapeHtml(row.edited_by)} at ${timeHtml(row.edited_at)}`;

function rowHtml(row: Row): string {
  const error =
    row.error.length > ERROR_PREVIEW_CHARS
      ? `${row.error.slice(0, ERROR_PREVIEW_CHARS)}…`
      : row.error;
  return `<tr>
  <td><a href="${escapeHtml(boardJobPath(row.queue_name, row.job_id))}">${escapeHtml(row.event_id)}</a></td>
  <td>${escapeHtml(row.type)}</td>
  <td>${escapeHtml(row.queue_name)}</td>
  <td class="error" title="${escapeHtml(row.error)}">${escapeHtml(error)}</td>
  <td>${timeHtml(row.failed_at)}</td>
  <td>${String(row.retry_count)}</td>
  <td class="edited">${editedHtml(row)}</td>
</tr>`;
}

/**
 * Open dead letters (events that failed every attempt), newest first, each linked to its job, and
 * for a job whose data an operator edited, who did it last and when.
 */
export function deadLetterRoutes(
  app: FastifyInstance,
  { db, demo = false }: DeadLetterRouteOptions,
) {
  app.get("/dead-letters", async (request, reply) => {
    const user = request.user ?? undefined;
    reply.type("text/html; charset=utf-8");
    if (db === undefined) {
      return page(
        "Dead letters",
        `<main><h1>Dead letters</h1>
<p class="notice">This view needs DATABASE_URL: set it to the workers' PostgreSQL database and restart the dashboard. Failed jobs are still listed in the <a href="/">queues</a>.</p></main>`,
        user,
        demo,
      );
    }
    let rows: Row[];
    try {
      rows = await db
        .selectFrom("webhook_dead_letters as letter")
        .leftJoin("webhook_events as event", "event.event_id", "letter.event_id")
        .select([
          "letter.event_id",
          "letter.type",
          "letter.queue_name",
          "letter.job_id",
          "letter.error",
          "letter.failed_at",
          "letter.retry_count",
          "event.edited_at",
          "event.edited_by",
        ])
        .where("letter.resolved_at", "is", null)
        .orderBy("letter.failed_at", "desc")
        .orderBy("letter.id", "desc")
        .limit(DEAD_LETTER_PAGE_SIZE + 1)
        .execute();
    } catch (error) {
      request.log.error({ err: error }, "dead letters: database query failed");
      return reply
        .code(503)
        .send(
          page(
            "Dead letters",
            `<main><h1>Dead letters</h1><p class="notice">The database did not answer; try again shortly.</p></main>`,
            user,
            demo,
          ),
        );
    }
    const more = rows.length > DEAD_LETTER_PAGE_SIZE;
    const shown = rows.slice(0, DEAD_LETTER_PAGE_SIZE);
    const summary =
      shown.length === 0
        ? "<p>No open dead letters.</p>"
        : `<p>${more ? `The newest ${DEAD_LETTER_PAGE_SIZE} of more` : String(shown.length)} open dead letter${shown.length === 1 ? "" : "s"}. Retrying one in its queue resolves it once it succeeds.</p>`;
    const table =
      shown.length === 0
        ? ""
        : `<table>
<thead><tr><th>Event id</th><th>Type</th><th>Queue</th><th>Error</th><th>Failed at</th><th>Retry count</th><th>Job data</th></tr></thead>
<tbody>
${shown.map(rowHtml).join("\n")}
</tbody>
</table>`;
    return page("Dead letters", `<main><h1>Dead letters</h1>${summary}${table}</main>`, user, demo);
  });
}
