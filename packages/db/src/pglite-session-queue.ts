import type { PGlite } from "@electric-sql/pglite";

interface QueuedMessage {
  kind: "message";
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: Error) => void;
}

interface QueuedRelease {
  kind: "release";
  handlerId: number;
  done: () => void;
}

type Queued = QueuedMessage | QueuedRelease;

// Type bytes after which the backend is ready for a new cycle: Query, Sync, Terminate. A startup
// message starts with its length, whose first byte is 0.
const cycleEnds = new Set([0x51, 0x53, 0x58, 0x00]);
const sync = new Uint8Array([0x53, 0, 0, 0, 4]);
const rollback = query("ROLLBACK");

function query(text: string): Uint8Array {
  const body = Buffer.from(`${text}\0`);
  const message = Buffer.alloc(5 + body.length);
  message.write("Q");
  message.writeInt32BE(4 + body.length, 1);
  body.copy(message, 5);
  return message;
}

/**
 * Shares one PGlite backend between many wire-protocol connections. A connection gets the backend
 * to itself from its first message until a message that ends a protocol cycle has run and no
 * transaction is open; the others' messages wait in arrival order. Drop-in for pglite-socket's
 * QueryQueueManager, which only pins a connection inside a transaction, so two connections'
 * Parse/Bind/Execute interleave and fail with `portal "" does not exist`.
 */
export class PgliteSessionQueue {
  readonly #db: PGlite;
  readonly #onError: (error: unknown) => void;
  #queue: Queued[] = [];
  #owner: number | undefined;
  #draining = false;

  constructor(db: PGlite, onError: (error: unknown) => void = () => undefined) {
    this.#db = db;
    this.#onError = onError;
  }

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void) {
    // Pushed synchronously: a handler's messages must reach the queue in the order they arrived.
    return new Promise<number>((resolve, reject) => {
      this.#queue.push({ kind: "message", handlerId, message, onData, resolve, reject });
      void this.#drain();
    });
  }

  getQueueLength(): number {
    return this.#queue.length;
  }

  clearQueueForHandler(handlerId: number): void {
    this.#queue = this.#queue.filter((item) => {
      if (item.kind !== "message" || item.handlerId !== handlerId) return true;
      item.reject(new Error("Handler disconnected"));
      return false;
    });
  }

  /** Called when a connection goes away: gives the backend back, clean, if that connection had it. */
  clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.#owner !== handlerId) return Promise.resolve();
    // Runs in the owner's turn; a second call (a handler detaches on error, then on close) finds
    // the backend released and so does nothing.
    return new Promise((done) => {
      this.#queue.push({ kind: "release", handlerId, done });
      void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let item = this.#next(); item !== undefined; item = this.#next()) {
        if (item.kind === "release") await this.#release(item);
        else await this.#run(item);
      }
    } finally {
      this.#draining = false;
    }
  }

  /** The owner's next item, else (no owner) the oldest; undefined while the owner is silent. */
  #next(): Queued | undefined {
    // A release from a connection that does not own the backend has nothing to give back.
    this.#queue = this.#queue.filter((item) => {
      if (item.kind !== "release" || item.handlerId === this.#owner) return true;
      item.done();
      return false;
    });
    const index =
      this.#owner === undefined ? 0 : this.#queue.findIndex((i) => i.handlerId === this.#owner);
    return index === -1 ? undefined : this.#queue.splice(index, 1)[0];
  }

  async #run(item: QueuedMessage): Promise<void> {
    this.#owner = item.handlerId;
    let bytes = 0;
    try {
      await this.#db.runExclusive(() =>
        this.#db.execProtocolRawStream(item.message, {
          onRawData: (data) => {
            bytes += data.length;
            item.onData(data);
          },
        }),
      );
    } catch (error) {
      // The handler detaches on this rejection, and its release cleans up the backend.
      item.reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (cycleEnds.has(item.message[0] ?? -1) && !this.#db.isInTransaction())
      this.#owner = undefined;
    item.resolve(bytes);
  }

  async #release(item: QueuedRelease): Promise<void> {
    const discard = { onRawData: () => undefined };
    try {
      // As a real server does when a connection drops: nothing it left unfinished is committed.
      // ROLLBACK aborts an open block or a half-sent extended cycle's implicit transaction (and is
      // ignored while the backend skips to Sync after an error); Sync then ends the cycle.
      await this.#db.runExclusive(async () => {
        await this.#db.execProtocolRawStream(rollback, discard);
        await this.#db.execProtocolRawStream(sync, discard);
        if (this.#db.isInTransaction()) await this.#db.execProtocolRawStream(rollback, discard);
      });
    } catch (error) {
      this.#onError(error);
    } finally {
      this.#owner = undefined;
      item.done();
    }
  }
}
