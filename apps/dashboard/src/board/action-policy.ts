import type { Database } from "@fanfare-relay/db/schema";
import type { Queue } from "bullmq";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Kysely } from "kysely";
import { DashboardError, errorBody, errorStatus } from "../errors.ts";
import { cleanCompletedJobs } from "./clean-completed.ts";
import { editFailedJobData } from "./job-data-edit.ts";

export interface BoardActionContext {
  queues: ReadonlyMap<string, Queue>;
  /** Undefined without DATABASE_URL: the actions that must consult or write PostgreSQL are refused. */
  db: Kysely<Database> | undefined;
}

interface ActionParams {
  queueName?: string;
  queueStatus?: string;
  jobId?: string;
}

type Step = (
  request: FastifyRequest,
  reply: FastifyReply,
  context: BoardActionContext,
) => Promise<FastifyReply | undefined>;

interface AllowedAction {
  /** Why the action cannot lose or forge an acknowledged event. */
  why: string;
  /** Runs before the body is read: refuses, or answers the request itself. */
  onRequest?: Step;
  /** Runs once the body is parsed: refuses, or answers the request itself. */
  preHandler?: Step;
}

const disabled = (message: string) => new DashboardError("DASHBOARD_ACTION_DISABLED", message);

const completedRetryRefused = () =>
  new DashboardError(
    "DASHBOARD_COMPLETED_RETRY_DISABLED",
    "retrying a completed job is disabled: it would apply the event's effects again",
  );

const params = (request: FastifyRequest) => request.params as ActionParams;

function queueOf(request: FastifyRequest, context: BoardActionContext): Queue {
  const queue = context.queues.get(params(request).queueName ?? "");
  if (queue === undefined) throw new DashboardError("DASHBOARD_NOT_FOUND", "no such queue");
  return queue;
}

async function jobOf(request: FastifyRequest, context: BoardActionContext) {
  const jobId = params(request).jobId ?? "";
  const job = await queueOf(request, context).getJob(jobId);
  if (job === undefined) throw new DashboardError("DASHBOARD_NOT_FOUND", "no such job");
  return job;
}

function databaseOf(context: BoardActionContext, action: string): Kysely<Database> {
  if (context.db === undefined) {
    throw disabled(`${action} needs DATABASE_URL: set it to the workers' database`);
  }
  return context.db;
}

/**
 * The write routes of Bull Board (@bull-board/api 9.10.1, dist/routes.js) that stay open to
 * admins, keyed by `METHOD route`. Every other write route, including any a later Bull Board adds,
 * is refused with 403 DASHBOARD_ACTION_DISABLED. Refused on purpose: adding or duplicating a job
 * (bypasses the ingest's signature check), emptying or obliterating a queue, cleaning waiting,
 * delayed, failed, active, paused or prioritized jobs, removing one such job or a job's unprocessed
 * children (each throws away an acknowledged event without a trace), rescheduling a delayed job or
 * changing a priority (can push an event's retry out of sight), setting a queue's concurrency or
 * rate limit or releasing it, and the job-scheduler and metrics-history routes (unused here).
 */
export const ALLOWED_ACTIONS: ReadonlyMap<string, AllowedAction> = new Map<string, AllowedAction>([
  [
    "PUT /api/queues/:queueName/:jobId/retry",
    {
      why: "runs a failed job again; the workers' claim on the event id makes that safe",
      onRequest: async (request, _reply, context) => {
        const job = await context.queues
          .get(params(request).queueName ?? "")
          ?.getJob(params(request).jobId ?? "");
        // Unknown queue or job: Bull Board answers its own 404.
        if (job && (await job.getState()) === "completed") throw completedRetryRefused();
        return undefined;
      },
    },
  ],
  [
    "PUT /api/queues/:queueName/retry/:queueStatus",
    {
      why: "runs every failed job again (failed only: a completed job has had its effects)",
      onRequest: (request) => {
        const status = params(request).queueStatus;
        if (status === "completed") throw completedRetryRefused();
        if (status !== "failed") throw disabled("only failed jobs can be retried");
        return Promise.resolve(undefined);
      },
    },
  ],
  [
    "PUT /api/queues/:queueName/promote",
    { why: "runs delayed retries now instead of later; every job stays" },
  ],
  [
    "PUT /api/queues/:queueName/:jobId/promote",
    { why: "runs one delayed retry now instead of later; the job stays" },
  ],
  ["PUT /api/queues/pause", { why: "stops taking jobs; every job stays, shown as paused" }],
  ["PUT /api/queues/resume", { why: "takes jobs again" }],
  [
    "PUT /api/queues/:queueName/pause",
    { why: "stops taking jobs from one queue (e.g. while its database is down); nothing is lost" },
  ],
  ["PUT /api/queues/:queueName/resume", { why: "takes jobs from one queue again" }],
  [
    "PUT /api/queues/:queueName/clean/:queueStatus",
    {
      why: "removes completed jobs whose event PostgreSQL records as completed, nothing else",
      onRequest: async (request, reply, context) => {
        if (params(request).queueStatus !== "completed") {
          throw disabled(
            "only completed jobs can be cleaned: the others are events not yet applied",
          );
        }
        const queue = queueOf(request, context);
        const db = databaseOf(context, "cleaning completed jobs");
        const result = await cleanCompletedJobs(queue, db);
        request.log.info({ queue: queue.name, ...result }, "completed jobs cleaned");
        return reply.code(200).send(result);
      },
    },
  ],
  [
    "PUT /api/queues/:queueName/:jobId/clean",
    {
      why: "removes one completed job whose event PostgreSQL records as completed",
      onRequest: async (request, reply, context) => {
        const job = await jobOf(request, context);
        const db = databaseOf(context, "cleaning a completed job");
        const { removed } = await cleanCompletedJobs(queueOf(request, context), db, [job.id ?? ""]);
        if (removed === 0) {
          throw disabled(
            "only a completed job whose event is recorded completed in webhook_events can be removed",
          );
        }
        return reply.code(204).send();
      },
    },
  ],
  [
    "PATCH /api/queues/:queueName/:jobId/update-data",
    {
      why: "fixes a failed job's payload before its retry; recorded in job_data_edits and on the event",
      preHandler: async (request, reply, context) => {
        const job = await jobOf(request, context);
        const db = databaseOf(context, "editing a job's data");
        await editFailedJobData({
          db,
          job,
          queueName: params(request).queueName ?? "",
          user: request.user?.username ?? "unknown",
          body: request.body,
          log: request.log,
        });
        return reply.code(200).send({});
      },
    },
  ],
]);

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

const actionOf = (request: FastifyRequest) => {
  const route = request.routeOptions.url;
  if (SAFE_METHODS.has(request.method) || route === undefined) return undefined;
  // Our own login and logout; every other write route is Bull Board's.
  if (request.routeOptions.config.public === true) return undefined;
  return ALLOWED_ACTIONS.get(`${request.method} ${route}`) ?? null;
};

/**
 * Enforces ALLOWED_ACTIONS on every write request that reaches a route: an action not listed is
 * refused with 403 DASHBOARD_ACTION_DISABLED; a listed one runs its checks, and some answer the
 * request themselves instead of Bull Board. Registered after the auth guard (viewers never get here
 * with a write).
 */
export function boardActionPolicy(app: FastifyInstance, context: BoardActionContext) {
  // Answered here rather than thrown: Bull Board's routes have an error handler of their own.
  const run = async (step: Step | undefined, request: FastifyRequest, reply: FastifyReply) => {
    if (step === undefined) return undefined;
    try {
      await step(request, reply, context);
    } catch (error) {
      if (!(error instanceof DashboardError)) throw error;
      await reply.code(error.statusCode).send(errorBody(error.code, error.message));
    }
    return reply.sent ? reply : undefined;
  };
  app.addHook("onRequest", async (request, reply) => {
    const action = actionOf(request);
    if (action === undefined) return;
    if (action === null) {
      return reply
        .code(errorStatus.DASHBOARD_ACTION_DISABLED)
        .send(
          errorBody(
            "DASHBOARD_ACTION_DISABLED",
            "this action is disabled: it would lose acknowledged events or bypass the ingest",
          ),
        );
    }
    return run(action.onRequest, request, reply);
  });
  app.addHook("preHandler", async (request, reply) => {
    const action = actionOf(request);
    if (action === undefined || action === null) return;
    return run(action.preHandler, request, reply);
  });
}
