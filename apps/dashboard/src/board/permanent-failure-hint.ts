import type { FastifyInstance } from "fastify";
import { rewriteBoardPage } from "./board.ts";

/** The failure no retry can fix: the job's payload fails its schema (packages/worker). */
export const PERMANENT_FAILURE_CODE = "WORKER_INVALID_PAYLOAD";

/** What the board shows next to such an error. */
export const PERMANENT_FAILURE_HINT =
  "Retrying alone will fail again: this job's data fails its schema. Fix the data first with Update data (the pencil; each edit is audited, see the README), then Retry.";

/** Served from the board's own origin, at the root like the board's routes (see base-path.ts). */
export const HINT_SCRIPT_ROUTE = "/fanfare-board-hints.js";

/**
 * Runs in the board's page. Bull Board's React UI is fed by /api/queues and offers no hook for
 * this, so the script watches the page: in the Error tab of a failed job (the same status tests as
 * hidden-actions.ts) whose newest error (Bull Board shows the newest attempt's stack first, under
 * the worker's `--- attempt … ---` heading) names PERMANENT_FAILURE_CODE, it adds one hint before the error; it removes the hint once that no
 * longer holds. Only its own element is added or removed, never one of React's.
 */
const SCRIPT = `"use strict";
(() => {
  const CODE = ${JSON.stringify(PERMANENT_FAILURE_CODE)};
  const TEXT = ${JSON.stringify(PERMANENT_FAILURE_HINT)};
  const FAILED = '[class^="jobLink-"][href*="status=failed"], [class^="statusDot-"][style*="--status-failed"]';
  const wanted = (panel) => {
    const card = panel.closest('[class^="card-"]');
    if (card === null || card.querySelector(FAILED) === null) return false;
    const error = panel.querySelector("pre, .error");
    if (error === null) return false;
    // The newest error's first line: the worker heads each attempt's stack with "--- attempt … ---".
    const first = (error.textContent || "")
      .split("\\n")
      .map((line) => line.trim())
      .find((line) => line !== "" && !/^---.*---$/.test(line));
    return first !== undefined && first.includes(CODE);
  };
  const update = () => {
    for (const panel of document.querySelectorAll('[class^="card-"] [class^="tabContent-"]')) {
      const hint = panel.querySelector(":scope > .fanfare-hint");
      if (wanted(panel)) {
        if (hint !== null) continue;
        const note = document.createElement("p");
        note.className = "fanfare-hint";
        note.setAttribute("role", "note");
        note.textContent = TEXT;
        panel.prepend(note);
      } else if (hint !== null) {
        hint.remove();
      }
    }
  };
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      update();
    });
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
  update();
})();
`;

/** Drawn with Bull Board's own CSS variables, so that it follows the light/dark theme. */
const STYLE = `<style id="fanfare-hint-style">
.fanfare-hint { margin: 0 0 .75rem; padding: .5rem .75rem; border-left: 3px solid var(--destructive);
  border-radius: var(--radius); background: var(--muted); color: var(--foreground);
  font-family: var(--font-sans); font-size: .875rem; line-height: 1.4; }
</style>`;

/**
 * Shows PERMANENT_FAILURE_HINT next to the error of a failed job that failed with
 * PERMANENT_FAILURE_CODE: retrying it unchanged fails at once (and raises another alert); its data
 * must be edited first. Serves the script at HINT_SCRIPT_ROUTE (the Content-Security-Policy allows
 * same-origin scripts only) and adds it to the board's HTML page with a relative URL, which the
 * page's `<base href>` resolves under the base path. The job's stored data and error are untouched.
 */
export function showPermanentFailureHint(app: FastifyInstance) {
  app.get(HINT_SCRIPT_ROUTE, async (_request, reply) => {
    return reply.type("text/javascript; charset=utf-8").send(SCRIPT);
  });
  rewriteBoardPage(app, (payload) => {
    return payload
      .replace("</head>", `${STYLE}</head>`)
      .replace("</body>", `<script defer src="${HINT_SCRIPT_ROUTE.slice(1)}"></script></body>`);
  });
}
