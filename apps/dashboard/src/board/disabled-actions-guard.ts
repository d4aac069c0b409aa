import type { FastifyReply, FastifyRequest } from "fastify";
import { errorBody, errorStatus } from "../errors.ts";

/**
 * Bull Board actions refused for every role (@bull-board/api 9.10.1 routes): adding a job would
 * bypass the ingest's signature check, and emptying or obliterating a queue throws away events
 * that were acknowledged to the sender. Failed jobs are retried, not deleted.
 */
export const DISABLED_ACTIONS: ReadonlySet<string> = new Set([
  "POST /api/queues/:queueName/add",
  "PUT /api/queues/:queueName/empty",
  "PUT /api/queues/:queueName/obliterate",
]);

export async function disabledActionsGuard(request: FastifyRequest, reply: FastifyReply) {
  if (!DISABLED_ACTIONS.has(`${request.method} ${request.routeOptions.url ?? ""}`)) return;
  return reply
    .code(errorStatus.DASHBOARD_ACTION_DISABLED)
    .send(
      errorBody(
        "DASHBOARD_ACTION_DISABLED",
        "this action is disabled: it would lose acknowledged events or bypass the ingest",
      ),
    );
}
