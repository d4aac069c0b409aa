import type { FastifyInstance } from "fastify";

interface QueuesResponse {
  queues?: Record<string, unknown>[];
}

/**
 * Bull Board reads its buttons' flags from GET /api/queues; for a viewer they are turned off so the
 * UI offers no action the server would refuse anyway (the guard answers 403 DASHBOARD_READ_ONLY).
 */
export function viewerFlags(app: FastifyInstance) {
  app.addHook("onSend", async (request, reply, payload) => {
    if (
      request.user?.role !== "viewer" ||
      request.routeOptions.url !== "/api/queues" ||
      reply.statusCode !== 200 ||
      typeof payload !== "string"
    ) {
      return payload;
    }
    const body = JSON.parse(payload) as QueuesResponse;
    for (const queue of body.queues ?? []) {
      queue.readOnlyMode = true;
      queue.allowRetries = false;
      queue.allowCompletedRetries = false;
    }
    return JSON.stringify(body);
  });
}
