import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from "@electric-sql/pglite-socket";
import { createServer, type Server, type Socket } from "node:net";
import { resolve } from "node:path";
import { lockDataDir } from "./pglite-lock.ts";
import { PgliteSessionQueue } from "./pglite-session-queue.ts";

export interface PgliteHostOptions {
  /** Folder the database persists to; undefined keeps it in memory. */
  dataDir?: string;
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Listen port; 0 (the default) picks a free one. */
  port?: number;
  /** Errors no client sees: the listener, a connection's socket, cleaning up after a client. */
  onError?: (error: unknown) => void;
}

export interface PgliteHost {
  /** postgres://postgres@<host>:<port>/postgres */
  url: string;
  /** Closes every connection (rolling back what they left open), the listener and PGlite. */
  stop: () => Promise<void>;
}

/**
 * Serves one embedded PostgreSQL (PGlite) over the wire protocol, so that several processes can
 * share it as they would a real server. PGlite has a single backend: connections take turns on
 * it, one protocol cycle or one transaction at a time (see PgliteSessionQueue).
 */
export async function startPgliteHost({
  dataDir,
  host = "127.0.0.1",
  port = 0,
  onError = () => undefined,
}: PgliteHostOptions = {}): Promise<PgliteHost> {
  const lock = dataDir === undefined ? undefined : await lockDataDir(resolve(dataDir));
  let db: PGlite | undefined;
  let served: Served | undefined;
  try {
    db = new PGlite(dataDir === undefined ? undefined : resolve(dataDir));
    await db.waitReady;
    served = await serve(db, host, port, onError);
    await lock?.publish(served.url);
  } catch (error) {
    await served?.close();
    await db?.close().catch(() => undefined);
    await lock?.release();
    throw error;
  }
  const { url, close } = served;
  const pglite = db;
  return {
    url,
    stop: once(async () => {
      await close();
      await pglite.close();
      await lock?.release();
    }),
  };
}

interface Served {
  url: string;
  close: () => Promise<void>;
}

async function serve(
  db: PGlite,
  host: string,
  port: number,
  onError: (error: unknown) => void,
): Promise<Served> {
  const queue = new PgliteSessionQueue(db, onError);
  // PGLiteSocketHandler is typed to take the stock QueryQueueManager, whose private members no
  // other class can match; ours has the same public methods, which are all the handler calls.
  const queryQueue = queue as unknown as PGLiteSocketHandlerOptions["queryQueue"];
  const handlers = new Set<PGLiteSocketHandler>();
  const sockets = new Set<Socket>();
  let closing = false;

  const server = createServer((socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    const handler = new PGLiteSocketHandler({ queryQueue, closeOnDetach: true });
    handlers.add(handler);
    handler.addEventListener("close", () => handlers.delete(handler));
    handler.addEventListener("error", (event) => {
      handlers.delete(handler);
      const error = "detail" in event ? event.detail : undefined;
      if (!isDisconnect(error)) onError(error);
    });
    handler.attach(socket).catch((error: unknown) => {
      handlers.delete(handler);
      socket.destroy();
      onError(error);
    });
  });
  await listen(server, host, port);
  server.on("error", onError);
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  const urlHost = ["0.0.0.0", "::"].includes(host) ? "127.0.0.1" : address.address;
  const hostPart = urlHost.includes(":") ? `[${urlHost}]` : urlHost;

  return {
    url: `postgres://postgres@${hostPart}:${address.port}/postgres`,
    close: async () => {
      closing = true;
      const closed = new Promise<void>((done) =>
        server.close(() => {
          done();
        }),
      );
      // Detaching hands back the backend of a client mid-transaction, rolled back.
      await Promise.all([...handlers].map((handler) => handler.detach(true)));
      handlers.clear();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(port, host, () => {
      server.off("error", fail);
      done();
    });
  });
}

/** A client that goes away without saying goodbye is not an error of the host. */
function isDisconnect(error: unknown): boolean {
  const code = error instanceof Error && "code" in error ? error.code : undefined;
  return code === "ECONNRESET" || code === "EPIPE";
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}
