import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { appRoutes } from "@bull-board/api/dist/routes.js";
import type { HTTPStatus, QueueAdapterOptions } from "@bull-board/api/typings/app";
import { FastifyAdapter } from "@bull-board/fastify";
import type { Queue } from "bullmq";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { atBase } from "../base-path.ts";
import { errorResponse } from "../errors.ts";

/** The routes that serve the board's HTML page (its UI routes, each the same page). */
export const BOARD_ENTRY_ROUTES: readonly string[] = [appRoutes.entryPoint.route].flat();

/**
 * The board's page for one job, `<base>queue/<queue>/<job id>` (the board lives at the
 * dashboard's base path); both parts are encoded as the UI itself encodes them.
 */
export const boardJobPath = (basePath: string, queueName: string, jobId: string) =>
  atBase(basePath, `/queue/${encodeURIComponent(queueName)}/${encodeURIComponent(jobId)}`);

export interface BoardOptions {
  queues: readonly Queue[];
  demo: boolean;
  /** DASHBOARD_BASE_PATH. */
  basePath: string;
}

export async function registerBoard(
  app: FastifyInstance,
  { queues, demo, basePath }: BoardOptions,
) {
  const serverAdapter = new FastifyAdapter();
  // Only the page's `<base href>`, from which the UI resolves its assets, API calls and routes:
  // the routes are registered at the root, the base path being stripped first (basePathRewrite).
  serverAdapter.setBasePath(basePath);
  // BullMQAdapter's type omits the flag that BaseAdapter reads; the UI then offers no retry of
  // completed jobs (the server refuses them too, see completed-retry-guard.ts).
  const adapterOptions: Partial<QueueAdapterOptions> & { allowCompletedRetries: boolean } = {
    allowRetries: true,
    allowCompletedRetries: false,
  };
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, adapterOptions)),
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: "Fanfare Relay",
        miscLinks: [
          { text: "Dead letters", url: atBase(basePath, "/dead-letters") },
          { text: "Log out", url: atBase(basePath, "/logout") },
        ],
        ...(demo ? { environment: { label: "DEMO", color: "#b45309" } } : {}),
      },
    },
  });
  // Bull Board's routes have an error handler of their own (a malformed body, a Redis error);
  // theirs answers a shape of its own, ours `{ error, code }` like every other route.
  serverAdapter.setErrorHandler((error) => {
    const response = errorResponse(error);
    if (response.serverFault) app.log.error({ err: error }, "request failed");
    return { status: response.status as HTTPStatus, body: response.body };
  });
  await app.register(serverAdapter.registerPlugin());
}

/**
 * Rewrites the board's HTML page (a GET of one of its UI routes answered 200 with `text/html`) with
 * `rewrite`; every other response passes through untouched, the login page among them. The
 * dashboard's additions to Bull Board's page (hidden actions, no outside links, the dead-letters
 * link, the permanent-failure hint) each register one.
 */
export function rewriteBoardPage(
  app: FastifyInstance,
  rewrite: (html: string, request: FastifyRequest) => string | Promise<string>,
): void {
  app.addHook("onSend", async (request, reply, payload) => {
    if (
      request.method !== "GET" ||
      // Not the login page the guard answers on these routes: nothing of the board before login.
      reply.statusCode !== 200 ||
      !BOARD_ENTRY_ROUTES.includes(request.routeOptions.url ?? "") ||
      typeof payload !== "string" ||
      !String(reply.getHeader("content-type")).startsWith("text/html")
    ) {
      return payload;
    }
    return rewrite(payload, request);
  });
}
