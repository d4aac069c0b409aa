import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Registry } from "prom-client";

/** One reason a worker is not ready, e.g. `{ code: "WORKER_DATABASE_UNAVAILABLE", message: "…" }`. */
export interface ReadinessProblem {
  code: string;
  message: string;
}

export interface HealthServerDeps {
  /** Liveness: false only when the process should be restarted (Redis lost, run loop dead). */
  isHealthy: () => boolean;
  /**
   * Why the process must be restarted, when a code says it (e.g. `WORKER_STALLED`): `/healthz`
   * answers 503 `{status, code, reasons}` while any is given, as `/readyz` does.
   */
  livenessProblems?: () => readonly ReadinessProblem[];
  /** Readiness: every reason the worker cannot do its job right now; empty when it can. */
  readinessProblems: () => readonly ReadinessProblem[];
  registry: Registry;
}

const routes = new Set(["/healthz", "/readyz", "/metrics"]);

const METHOD_NOT_ALLOWED_BODY = JSON.stringify({
  error: "Method not allowed",
  code: "WORKER_METHOD_NOT_ALLOWED",
});

function sendError(reply: FastifyReply, status: number, error: string, code: string) {
  return reply.code(status).send({ error, code });
}

function codeForStatus(status: number): { error: string; code: string } {
  if (status === 413) return { error: "Request body too large", code: "WORKER_BODY_TOO_LARGE" };
  if (status === 415) {
    return { error: "Unsupported media type", code: "WORKER_UNSUPPORTED_MEDIA_TYPE" };
  }
  if (status >= 400 && status < 500) return { error: "Bad request", code: "WORKER_BAD_REQUEST" };
  return { error: "Internal error", code: "WORKER_INTERNAL_ERROR" };
}

/**
 * The worker's only HTTP surface: liveness (`/healthz`) and readiness (`/readyz`) for the
 * orchestrator, metrics for the scraper. Every error answer is `{"error", "code"}` JSON — an
 * unknown route (404 `WORKER_NOT_FOUND`), another method on a known route (405
 * `WORKER_METHOD_NOT_ALLOWED`, `Allow: GET, HEAD`; CONNECT too, whatever its target), a
 * malformed URL or request (400 `WORKER_BAD_REQUEST`) — never Fastify's or Node's default body.
 */
export function buildHealthServer({
  isHealthy,
  livenessProblems = () => [],
  readinessProblems,
  registry,
}: HealthServerDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    // A malformed URL (`/%zz`) or similar, found by the router before any route runs.
    frameworkErrors: (_error, _request, reply) => {
      void sendError(reply, 400, "Bad request", "WORKER_BAD_REQUEST");
    },
    // Requests Node's HTTP parser rejects (bad request line, unknown method, oversized headers).
    clientErrorHandler: (error: Error & { code?: string }, socket: Socket) => {
      if (error.code === "ECONNRESET" || !socket.writable) {
        socket.destroy(error);
        return;
      }
      const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
      const body = JSON.stringify(
        status === 431
          ? { error: "Request headers too large", code: "WORKER_HEADERS_TOO_LARGE" }
          : { error: "Bad request", code: "WORKER_BAD_REQUEST" },
      );
      socket.end(
        `HTTP/1.1 ${String(status)} ${status === 431 ? "Request Header Fields Too Large" : "Bad Request"}\r\n` +
          `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${String(Buffer.byteLength(body))}\r\nConnection: close\r\n\r\n${body}`,
      );
    },
  });
  // Node hands CONNECT to the server's `connect` event, never to Fastify, and with no listener
  // closes the socket without a byte. Answer it like any other method this server does not serve.
  app.server.on("connect", (_request: IncomingMessage, socket: Duplex) => {
    socket.on("error", () => undefined);
    // The server keeps half-open sockets (allowHalfOpen), so close it once the answer is out.
    socket.end(
      "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json; charset=utf-8\r\n" +
        `Content-Length: ${String(Buffer.byteLength(METHOD_NOT_ALLOWED_BODY))}\r\nAllow: GET, HEAD\r\nConnection: close\r\n\r\n${METHOD_NOT_ALLOWED_BODY}`,
      () => socket.destroy(),
    );
  });
  app.get("/healthz", async (_request, reply) => {
    const problems = livenessProblems();
    if (problems.length > 0) {
      return reply
        .code(503)
        .send({ status: "unavailable", code: problems[0]?.code, reasons: problems });
    }
    const healthy = isHealthy();
    return reply.code(healthy ? 200 : 503).send({ status: healthy ? "ok" : "unavailable" });
  });
  app.get("/readyz", async (_request, reply) => {
    const problems = readinessProblems();
    if (problems.length === 0) return reply.code(200).send({ status: "ready" });
    return reply
      .code(503)
      .send({ status: "not_ready", code: problems[0]?.code, reasons: problems });
  });
  app.get("/metrics", async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split("?")[0] ?? "";
    if (routes.has(path)) {
      void reply.header("allow", "GET, HEAD");
      return sendError(reply, 405, "Method not allowed", "WORKER_METHOD_NOT_ALLOWED");
    }
    return sendError(reply, 404, "Not found", "WORKER_NOT_FOUND");
  });
  app.setErrorHandler(async (error: { statusCode?: number }, _request, reply) => {
    const status =
      error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    const { error: message, code } = codeForStatus(status);
    return sendError(reply, status, message, code);
  });
  return app;
}
