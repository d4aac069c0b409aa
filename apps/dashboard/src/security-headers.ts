import type { FastifyInstance } from "fastify";

/**
 * Every page, script, style, font, image, worker and API call comes from this origin: the
 * dashboard makes no third-party requests, so it works offline and tells no one who opens it.
 * Inline styles stay allowed (Bull Board's React UI sets style attributes, and our pages and the
 * board's hidden-actions rules are `<style>` elements); inline scripts do not (the board's
 * `<script type="application/json">` config is data, not code). `frame-ancestors 'none'` refuses
 * framing, like x-frame-options.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * No framing (clickjacking a Retry button is a cross-site request too), no MIME sniffing, no
 * referrer to other sites, nothing loaded from another origin (CONTENT_SECURITY_POLICY), and no
 * caching of pages that show jobs' payloads.
 */
export function securityHeaders(app: FastifyInstance) {
  app.addHook("onSend", async (request, reply) => {
    reply.header("x-frame-options", "DENY");
    reply.header("content-security-policy", CONTENT_SECURITY_POLICY);
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "same-origin");
    if (!request.url.startsWith("/static/")) reply.header("cache-control", "no-store");
  });
}
