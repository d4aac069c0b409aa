import type { Database } from "@fanfare-relay/db/schema";
import type { FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import escapeHtml from "escape-html";
import { atBase } from "../base-path.ts";
import { rewriteBoardPage } from "./board.ts";

export interface DeadLettersLinkOptions {
  /** Undefined without DATABASE_URL: the link is shown without a count. */
  db: Kysely<Database> | undefined;
  /** DASHBOARD_BASE_PATH. */
  basePath: string;
}

/**
 * Open (unresolved) dead letters, the number the Dead letters page lists.
 *
 * @throws whatever PostgreSQL throws
 */
export async function countOpenDeadLetters(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom("webhook_dead_letters")
    .select((eb) => eb.fn.countAll<string>().as("open"))
    .where("resolved_at", "is", null)
    .executeTakeFirstOrThrow();
  return Number(row.open);
}

/**
 * Centred in Bull Board's fixed header (which is z-index 99) and drawn with its own CSS variables
 * (--primary, --border, --radius, --font-sans), so that it follows the board's light/dark theme.
 */
const STYLE = `<style id="fanfare-dead-letters-style">
#fanfare-nav { position: fixed; top: 0; left: 50%; transform: translateX(-50%); z-index: 100;
  height: var(--header-offset, 64px); display: flex; align-items: center; pointer-events: none; }
#fanfare-nav a { pointer-events: auto; font-family: var(--font-sans); font-size: .875rem; font-weight: 500;
  color: var(--primary); text-decoration: none; padding: .375rem .75rem; border: 1px solid var(--border);
  border-radius: var(--radius); background: var(--card); white-space: nowrap; }
#fanfare-nav a:hover { background: var(--accent); }
#fanfare-nav a.open { color: var(--destructive); border-color: var(--destructive); }
</style>`;

/** The link's HTML: `Dead letters (N)`, or without the count when it is unknown. */
export function deadLettersNav(open: number | undefined, basePath: string): string {
  const label = open === undefined ? "Dead letters" : `Dead letters (${String(open)})`;
  const cls = open !== undefined && open > 0 ? ' class="open"' : "";
  return `<nav id="fanfare-nav" aria-label="Fanfare Relay"><a href="${escapeHtml(atBase(basePath, "/dead-letters"))}"${cls}>${label}</a></nav>`;
}

/**
 * Adds a "Dead letters (N)" link (N = open dead letters) to the board's HTML page, served for each
 * of its UI routes: Bull Board's own misc links sit behind an unlabelled user icon. The element is
 * outside React's root, so the UI leaves it alone; the count is the one at page load. A database
 * that does not answer costs the count, not the board.
 */
export function showDeadLettersLink(
  app: FastifyInstance,
  { db, basePath }: DeadLettersLinkOptions,
) {
  rewriteBoardPage(app, async (payload, request) => {
    let open: number | undefined;
    if (db !== undefined) {
      try {
        open = await countOpenDeadLetters(db);
      } catch (error) {
        request.log.warn({ err: error }, "dead letters: count query failed");
      }
    }
    return payload
      .replace("</head>", `${STYLE}</head>`)
      .replace("</body>", `${deadLettersNav(open, basePath)}</body>`);
  });
}
