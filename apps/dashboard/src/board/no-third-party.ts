import type { FastifyInstance } from "fastify";
import { rewriteBoardPage } from "./board.ts";

/**
 * A `<link>` whose href is absolute (`https://…`, `http://…`) or protocol-relative (`//…`), with
 * the whitespace after it. Bull Board 9.10.1's page links Google Fonts' stylesheet this way.
 */
const OUTSIDE_LINK = /<link\b[^>]*\bhref\s*=\s*["']?(?:https?:)?\/\/[^>]*>\s*/gi;

/**
 * Removes every `<link>` to another host from an HTML page (a string of HTML in, the same page
 * without those tags out). Bull Board's stylesheet already falls back to system fonts
 * (`--font-sans: "IBM Plex Sans", system-ui, …`, `--font-mono: "IBM Plex Mono", ui-monospace, …`),
 * so the page looks the same apart from the typeface.
 */
export function stripOutsideLinks(html: string): string {
  return html.replace(OUTSIDE_LINK, "");
}

/**
 * Strips Bull Board's link to a web-font CDN from the board's HTML page (served for each of its UI
 * routes): a self-hosted ops tool must work offline and tell no third party who opens it. The
 * Content-Security-Policy (security-headers.ts) would block the request anyway; removing the tag
 * also spares the browser a console error on every page.
 */
export function serveNoOutsideLinks(app: FastifyInstance) {
  rewriteBoardPage(app, (payload) => {
    return stripOutsideLinks(payload);
  });
}
