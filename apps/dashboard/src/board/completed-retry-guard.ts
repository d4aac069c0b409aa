import type { Queue } from "bullmq";
import type { FastifyReply, FastifyRequest } from "fastify";
import { errorBody, errorStatus } from "../errors.ts";

/** Bull Board's API routes that retry jobs (@bull-board/api 9.10.1, src/routes.ts). */
export const RETRY_ALL_ROUTE = "/api/queues/:queueName/retry/:queueStatus";
export const RETRY_JOB_ROUTE = "/api/queues/:queueName/:jobId/retry";

interface RetryParams {
  queueName?: string;
  queueStatus?: string;
  jobId?: string;
}

function refuse(reply: FastifyReply) {
  return reply
    .code(errorStatus.DASHBOARD_COMPLETED_RETRY_DISABLED)
    .send(
      errorBody(
        "DASHBOARD_COMPLETED_RETRY_DISABLED",
        "retrying a completed job is disabled: it would apply the event's effects again",
      ),
    );
}

/**
 * A completed job has had its effects; running it again could repeat them. Bull Board hides the
 * button (allowCompletedRetries: false) but its API still retries completed jobs, so the server
 * refuses them too.
 */
export function completedRetryGuard(queues: ReadonlyMap<string, Queue>) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== "PUT") return;
    const route = request.routeOptions.url;
    if (route !== RETRY_ALL_ROUTE && route !== RETRY_JOB_ROUTE) return;
    const params = request.params as RetryParams;
    if (route === RETRY_ALL_ROUTE) {
      if (params.queueStatus === "completed") return refuse(reply);
      return;
    }
    const queue = queues.get(params.queueName ?? "");
    // Unknown queue or job: Bull Board answers its own 404.
    const job = queue && params.jobId ? await queue.getJob(params.jobId) : undefined;
    if (job && (await job.getState()) === "completed") return refuse(reply);
  };
}
