import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect as connectSocket, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../src/connect.ts";
import { migrateToLatest, migrationNames } from "../src/migrate.ts";
import { startPgliteHost, type PgliteHost } from "../src/pglite-host.ts";

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

describe("a PGlite host shared by several clients", () => {
  let host: PgliteHost;
  const hostErrors: unknown[] = [];
  beforeAll(async () => {
    host = await startPgliteHost({ onError: (error) => hostErrors.push(error) });
    await withClient(host.url, (client) =>
      client.query(
        "CREATE TABLE c (id int PRIMARY KEY, n int NOT NULL); INSERT INTO c VALUES (1, 0), (2, 0)",
      ),
    );
  });
  afterAll(() => host.stop());

  const count = (client: pg.Client, id: number) =>
    client.query<{ n: number }>("SELECT n FROM c WHERE id = $1", [id]).then((r) => r.rows[0]?.n);

  // pglite-socket's own multiplexer fails this: concurrent Parse/Bind/Execute interleave.
  it("keeps each client's parameterized queries and transactions whole", async () => {
    const clients = 8;
    const iterations = 200;
    const errors: unknown[] = [];
    await Promise.all(
      Array.from({ length: clients }, (_, k) =>
        withClient(host.url, async (client) => {
          for (let i = 0; i < iterations; i++) {
            try {
              const text = `client ${k} iteration ${i}`;
              const echo = await client.query("SELECT $1::int AS v, $2::text AS t", [i, text]);
              if (echo.rows[0]?.v !== i || echo.rows[0]?.t !== text) {
                errors.push(new Error(`${text} got ${JSON.stringify(echo.rows)}`));
              }
              await client.query("BEGIN");
              const n = await count(client, 1);
              await client.query("UPDATE c SET n = $1 WHERE id = $2", [(n ?? 0) + 1, 1]);
              await client.query("COMMIT");
            } catch (error) {
              errors.push(error);
              await client.query("ROLLBACK").catch(() => undefined);
            }
          }
        }),
      ),
    );
    expect(errors).toEqual([]);
    expect(await withClient(host.url, (client) => count(client, 1))).toBe(clients * iterations);
    expect(hostErrors).toEqual([]);
  }, 20_000);

  it("rolls back what a client that vanished left unfinished, and lets the others go on", async () => {
    await withClient(host.url, async (other) => {
      // Mid-transaction: the other client's query waits for it, then sees it rolled back.
      const doomed = new pg.Client({ connectionString: host.url });
      doomed.on("error", () => undefined);
      await doomed.connect();
      await doomed.query("BEGIN");
      await doomed.query("UPDATE c SET n = n + 1000 WHERE id = $1", [2]);
      const waiting = count(other, 2);
      doomed.connection.stream.destroy();
      expect(await waiting).toBe(0);

      // Mid-cycle: Parse/Bind/Execute ran (an implicit transaction) but Sync never came.
      const raw = await rawSession(host.url);
      raw.socket.write(
        Buffer.concat([
          message("P", cstring(""), cstring("UPDATE c SET n = n + 1000 WHERE id = 2"), int16(0)),
          message("B", cstring(""), cstring(""), int16(0), int16(0), int16(0)),
          message("E", cstring(""), int32(0)),
        ]),
      );
      await raw.received("C");
      let answered = false;
      const queued = count(other, 2).finally(() => (answered = true));
      await new Promise((done) => setTimeout(done, 50));
      expect(answered).toBe(false);
      raw.socket.destroy();
      expect(await queued).toBe(0);
    });
    expect(hostErrors).toEqual([]);
  });
});

describe("a PGlite host on a data folder", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fanfare-pglite-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("runs the migrations and keeps committed transactions across a restart", async () => {
    const event = {
      event_id: "evt_persisted",
      type: "queue.consumer_left",
      family: "queue",
      status: "completed" as const,
      event_created_at: new Date("2025-11-26T09:40:20.000Z"),
    };
    const first = await startPgliteHost({ dataDir: dir });
    const before = connect({ connectionString: first.url });
    const migrated = await migrateToLatest(before);
    expect(migrated.results?.map((r) => r.migrationName)).toEqual(migrationNames);
    await before
      .transaction()
      .execute((trx) => trx.insertInto("webhook_events").values(event).execute());
    await before.destroy();
    await first.stop();

    const second = await startPgliteHost({ dataDir: dir });
    const after = connect({ connectionString: second.url });
    try {
      expect((await migrateToLatest(after)).results).toEqual([]);
      const rows = await after
        .selectFrom("webhook_events")
        .select(["event_id", "status", "event_created_at"])
        .execute();
      expect(rows).toEqual([
        {
          event_id: "evt_persisted",
          status: "completed",
          event_created_at: event.event_created_at,
        },
      ]);
    } finally {
      await after.destroy();
      await second.stop();
    }
  }, 20_000);

  it("refuses a second host on a folder in use, and replaces a lock whose process is gone", async () => {
    const lock = join(dir, "host.lock");
    const first = await startPgliteHost({ dataDir: dir });
    await expect(startPgliteHost({ dataDir: dir })).rejects.toThrow(
      `PGlite data folder ${dir} is in use by process ${process.pid} (serving ${first.url}); ` +
        `set DATABASE_URL=${first.url} to share it`,
    );
    await first.stop();
    expect(existsSync(lock)).toBe(false);

    const gone = spawnSync(process.execPath, ["-e", ""]).pid;
    await writeFile(lock, JSON.stringify({ pid: gone, url: "postgres://postgres@127.0.0.1:1/x" }));
    const second = await startPgliteHost({ dataDir: dir });
    await second.stop();
    expect(existsSync(lock)).toBe(false);
  }, 20_000);
});

// Just enough of the wire protocol to leave an extended-protocol cycle half sent.
const cstring = (text: string) => Buffer.from(`${text}\0`);
const int16 = (value: number) => Buffer.from([value >> 8, value & 0xff]);
const int32 = (value: number) => {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
};
const message = (type: string, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from(type), int32(body.length + 4), body]);
};

async function rawSession(url: string) {
  const { hostname, port } = new URL(url);
  const socket: Socket = connectSocket(Number(port), hostname);
  socket.on("error", () => undefined);
  let buffer = Buffer.alloc(0);
  let wanted: { type: string; found: () => void } | undefined;
  socket.on("data", (data: Buffer) => {
    buffer = Buffer.concat([buffer, data]);
    while (buffer.length >= 5 && buffer.length >= 1 + buffer.readInt32BE(1)) {
      const type = String.fromCharCode(buffer[0] ?? 0);
      buffer = buffer.subarray(1 + buffer.readInt32BE(1));
      if (type === wanted?.type) wanted.found();
    }
  });
  const received = (type: string) =>
    new Promise<void>((found) => {
      wanted = { type, found };
    });
  await new Promise((done) => socket.once("connect", done));
  const startup = Buffer.concat([int32(196608), cstring("user"), cstring("postgres"), cstring("")]);
  socket.write(Buffer.concat([int32(startup.length + 4), startup]));
  await received("Z");
  return { socket, received };
}
