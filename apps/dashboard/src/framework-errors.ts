import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { STATUS_CODES, type IncomingMessage, type Server } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { errorBody, errorStatus, type DashboardErrorCode } from "./errors.ts";

/**
 * Fastify's `frameworkErrors`: a URL it cannot decode (`/%E0%A4%A`), a path parameter over its
 * length limit or a failed route constraint answers 400 DASHBOARD_BAD_REQUEST in our shape instead
 * of Fastify's default body.
 */
export function frameworkErrors(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
) {
  const message =
    error.code === "FST_ERR_BAD_URL" ? "the URL is not validly encoded" : "bad request";
  return reply
    .code(errorStatus.DASHBOARD_BAD_REQUEST)
    .send(errorBody("DASHBOARD_BAD_REQUEST", message));
}

/**
 * Node's `clientError` (a request Node's HTTP parser rejects before Fastify sees it: an unknown
 * method such as `FOO`, a malformed request line, headers too large, a request timeout): answers
 * `{ error, code }` on the socket, as Fastify's default handler does with its own body, and closes
 * it. Codes: 408 and 431 keep their status as DASHBOARD_BAD_REQUEST; everything else is 400.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket) {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const status =
    error.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? 408
      : error.code === "HPE_HEADER_OVERFLOW"
        ? 431
        : 400;
  const message =
    status === 408
      ? "the request took too long to arrive"
      : status === 431
        ? "the request's headers are too large"
        : "malformed HTTP request";
  const body = JSON.stringify(errorBody("DASHBOARD_BAD_REQUEST", message));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${String(status)} ${STATUS_CODES[status] ?? "Bad Request"}\r\n` +
        "Content-Type: application/json; charset=utf-8\r\n" +
        `Content-Length: ${String(Buffer.byteLength(body))}\r\n` +
        "Connection: close\r\n\r\n" +
        body,
    );
  }
  socket.destroy();
}

/**
 * Answers CONNECT (a proxy tunnel request) with 400 DASHBOARD_BAD_REQUEST, like any other method
 * the dashboard does not know, and closes the connection. Node hands CONNECT to the server's
 * `connect` event, never to Fastify, and with no listener closes the socket without a byte.
 */
export function answerConnectRequests(server: Server) {
  const body = JSON.stringify(
    errorBody("DASHBOARD_BAD_REQUEST", "CONNECT is not supported: this is not a proxy"),
  );
  server.on("connect", (_request: IncomingMessage, socket: Duplex) => {
    socket.on("error", () => undefined);
    // The server keeps half-open sockets (allowHalfOpen), so close it once the answer is out.
    socket.end(
      "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\n" +
        `Content-Length: ${String(Buffer.byteLength(body))}\r\nConnection: close\r\n\r\n${body}`,
      () => socket.destroy(),
    );
  });
}

/**
 * Once the dashboard starts closing, every request gets 503 DASHBOARD_UNAVAILABLE (with
 * Retry-After and Connection: close) in our shape; Fastify's own `return503OnClosing` answers with
 * its default body, so the app turns that off and registers this hook first.
 */
export function refuseWhileClosing(app: FastifyInstance) {
  let closing = false;
  app.addHook("preClose", (done) => {
    closing = true;
    done();
  });
  app.addHook("onRequest", async (_request, reply) => {
    if (!closing) return;
    return reply
      .code(errorStatus.DASHBOARD_UNAVAILABLE)
      .header("retry-after", "5")
      .header("connection", "close")
      .send(
        errorBody("DASHBOARD_UNAVAILABLE", "the dashboard is shutting down; try again shortly"),
      );
  });
}

/** Bull Board's error keys its handlers answer most, in words; any other key is spelt out. */
const BULL_BOARD_MESSAGES: Readonly<Record<string, string>> = {
  "ERRORS.QUEUE_NOT_FOUND": "no such queue",
  "ERRORS.JOB_NOT_FOUND": "no such job",
  "ERRORS.QUEUE_READ_ONLY": "the queue is read-only",
};

const bullBoardMessage = (key: string) =>
  BULL_BOARD_MESSAGES[key] ??
  key
    .replace(/^ERRORS\./, "")
    .toLowerCase()
    .replaceAll("_", " ");

/** Bull Board's key out of its error body, `{ error: { key, options? }, code? }`. */
function bullBoardErrorKey(payload: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof body !== "object" || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== "object" || error === null) return undefined;
  const key = (error as { key?: unknown }).key;
  return typeof key === "string" ? key : undefined;
}

/**
 * Bull Board's handlers answer their own errors rather than throw them (a queue or job not found,
 * a query parameter out of range) with a translation key for its UI:
 * `{ "error": { "key": "ERRORS.QUEUE_NOT_FOUND" }, "code"?: … }`. Rewritten into `{ error, code }`
 * like every other answer: 404 DASHBOARD_NOT_FOUND, other 4xx DASHBOARD_BAD_REQUEST (status kept),
 * 5xx DASHBOARD_INTERNAL. Its UI shows a string error as it is.
 */
export function bullBoardErrorBodies(app: FastifyInstance) {
  app.addHook("onSend", async (request, reply, payload) => {
    if (
      reply.statusCode < 400 ||
      typeof payload !== "string" ||
      !(request.routeOptions.url ?? "").startsWith("/api/") ||
      !String(reply.getHeader("content-type")).startsWith("application/json")
    ) {
      return payload;
    }
    const key = bullBoardErrorKey(payload);
    if (key === undefined) return payload;
    const code: DashboardErrorCode =
      reply.statusCode === 404
        ? "DASHBOARD_NOT_FOUND"
        : reply.statusCode >= 500
          ? "DASHBOARD_INTERNAL"
          : "DASHBOARD_BAD_REQUEST";
    const message = code === "DASHBOARD_INTERNAL" ? "internal error" : bullBoardMessage(key);
    return JSON.stringify(errorBody(code, message));
  });
}
