import type { FastifyInstance } from "fastify";
import { rewriteBoardPage } from "./board.ts";

/**
 * Hides the buttons of the actions the server refuses (see action-policy.ts), so that an admin is
 * not offered them. Bull Board 9.10.1's UI has no per-action switches, only readOnlyMode (every
 * action) and allowRetries/allowCompletedRetries, so its elements are matched by their stable
 * parts: class-name prefixes and the lucide icon of each button. The server refuses these actions
 * whatever the UI shows; this only keeps the UI honest (checked in test/browser.test.ts).
 *
 * - a job's actions (Bull Board 9.10.1 offers, by state: failed Retry, Duplicate, Update data,
 *   Clean; completed Duplicate, Retry (when it ever failed), Clean; delayed Promote, Reschedule,
 *   Duplicate, Update data, Clean; waiting, paused, prioritized and waiting-children Duplicate,
 *   Update data, Clean, plus Change priority or Remove children): Retry (refresh-cw) and Update
 *   data (pencil) on a failed job only, Clean (trash) on a completed one, Promote (corner-up-left)
 *   where offered (delayed). Duplicate (an editor, then 403), Reschedule, Change priority, Remove
 *   children and anything newer are hidden. A job's status is read from its link (`?status=failed`,
 *   a list filtered by status) or its status dot (the job's own page). The unfiltered "latest" list
 *   marks every job that ever failed as failed (a completed one, or one waiting for its next
 *   attempt, which the server refuses to retry), so it offers none of these.
 * - a queue's "Clean all" only on its Completed tab.
 * - a queue's menu: Add job, Set concurrency, Set rate limit, Empty and Obliterate are hidden;
 *   Pause and Resume stay.
 */
export const HIDDEN_ACTIONS_CSS = `
[class^="jobActions-"] > li:not(:has(.lucide-refresh-cw, .lucide-corner-up-left, .lucide-pencil, .lucide-trash2)) { display: none !important; }
[class^="card-"]:not(:has([class^="jobLink-"][href*="status=failed"], [class^="statusDot-"][style*="--status-failed"])) [class^="jobActions-"] > li:has(.lucide-refresh-cw, .lucide-pencil) { display: none !important; }
[class^="card-"]:not(:has([class^="jobLink-"][href*="status=completed"], [class^="statusDot-"][style*="--status-completed"])) [class^="jobActions-"] > li:has(.lucide-trash2) { display: none !important; }
main:not(:has([class^="completed-"] > a[aria-current="page"])) [class^="queueActions-"] > li:has(.lucide-trash2) { display: none !important; }
[role="menu"] > [role="menuitem"]:has(.lucide-plus, .lucide-chart-no-axes-gantt, .lucide-gauge, .lucide-trash2, .lucide-ban) { display: none !important; }
`;

const STYLE = `<style id="fanfare-hidden-actions">${HIDDEN_ACTIONS_CSS}</style>`;

/** Adds HIDDEN_ACTIONS_CSS to the board's HTML page (served for each of its UI routes). */
export function hideRefusedActions(app: FastifyInstance) {
  rewriteBoardPage(app, (payload) => {
    return payload.replace("</head>", `${STYLE}</head>`);
  });
}
