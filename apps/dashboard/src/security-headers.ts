import type { FastifyInstance } from "fastify";

/**
 * No framing (clickjacking a Retry button is a cross-site request too), no MIME sniffing, no
 * referrer to other sites, and no caching of pages that show jobs' payloads.
 */
export function securityHeaders(app: FastifyInstance) {
  app.addHook("onSend", async (request, reply) => {
    reply.header("x-frame-options", "DENY");
    reply.header("content-security-policy", "frame-ancestors 'none'");
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "same-origin");
    if (!request.url.startsWith("/static/")) reply.header("cache-control", "no-store");
  });
}
