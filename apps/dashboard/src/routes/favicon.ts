import type { FastifyInstance } from "fastify";

/**
 * Browsers ask for `/favicon.ico` on every page the dashboard serves without an icon of its own
 * (the login form, the dead letters): 204, no session needed, instead of a 404 in each page's
 * console and the network log.
 */
export function faviconRoute(app: FastifyInstance) {
  app.get("/favicon.ico", { config: { public: true } }, async (_request, reply) =>
    reply.code(204).send(),
  );
}
