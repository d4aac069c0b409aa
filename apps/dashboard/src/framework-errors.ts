import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { STATUS_CODES, type IncomingMessage, type Server } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { errorBody, errorStatus } from "./errors.ts";

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
