import { STATUS_CODES, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";

/** The answer to a CONNECT request: its status, JSON body and any extra headers. */
export interface ConnectAnswer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/**
 * Answers every CONNECT request on `server` with `answer(request)` and closes the connection.
 * Node hands CONNECT (a proxy tunnel request) to the server's `connect` event instead of the
 * request handler, and with no listener destroys the socket without a byte: a client would see
 * the connection cut instead of the `{error, code}` every other mistake gets.
 */
export function answerConnectRequests(
  server: Server,
  answer: (request: IncomingMessage) => ConnectAnswer,
): void {
  server.on("connect", (request: IncomingMessage, socket: Duplex) => {
    // A client that resets the connection meanwhile has nobody left to answer.
    socket.on("error", () => undefined);
    const { status, body, headers = {} } = answer(request);
    const extra = Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("");
    // The server keeps half-open sockets (allowHalfOpen), so close it once the answer is out.
    socket.end(
      `HTTP/1.1 ${String(status)} ${STATUS_CODES[status] ?? ""}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${String(Buffer.byteLength(body))}\r\n${extra}Connection: close\r\n\r\n${body}`,
      () => socket.destroy(),
    );
  });
}
