import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";

const POLL_MS = 50;

/**
 * One connection per port of 127.0.0.1, for polling private Redis processes. No reconnecting: a
 * dead process fails fast (1 s to connect, 2 s per command), and the next call opens a fresh
 * connection (the process may have come back).
 */
export class NodeClients {
  readonly #clients = new Map<number, Redis>();

  /** The open connection to `port`, or a new one. */
  get(port: number): Redis {
    const existing = this.#clients.get(port);
    if (existing && existing.status !== "end") return existing;
    const client = new Redis({
      host: "127.0.0.1",
      port,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      connectTimeout: 1_000,
      commandTimeout: 2_000,
    });
    client.on("error", () => undefined);
    this.#clients.set(port, client);
    return client;
  }

  /** Sends `command` to `port`; rejects unless the reply is a string (INFO, CLUSTER NODES, …). */
  async text(port: number, command: string, ...args: string[]): Promise<string> {
    const reply = await this.get(port).call(command, ...args);
    if (typeof reply !== "string") throw new Error(`${command} answered ${typeof reply}`);
    return reply;
  }

  close(port: number): void {
    this.#clients.get(port)?.disconnect();
    this.#clients.delete(port);
  }

  closeAll(): void {
    for (const port of [...this.#clients.keys()]) this.close(port);
  }
}

/** The `key:value` lines of INFO or CLUSTER INFO as fields; other lines are left out. */
export function parseInfo(text: string): Record<string, string | undefined> {
  const fields: Record<string, string> = {};
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

/**
 * Calls `check` every 50 ms until it returns `{ value }`, then resolves with that value. A string
 * or a thrown error is the reason it is not there yet; once `deadline` (epoch ms) has passed, it
 * rejects with "timed out waiting for <what>: <last reason>".
 */
export async function pollUntil<T>(
  what: string,
  deadline: number,
  check: () => Promise<{ value: T } | string>,
): Promise<T> {
  let reason = "not checked yet";
  for (;;) {
    try {
      const result = await check();
      if (typeof result !== "string") return result.value;
      reason = result;
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) throw new Error(`timed out waiting for ${what}: ${reason}`);
    await sleep(POLL_MS);
  }
}
