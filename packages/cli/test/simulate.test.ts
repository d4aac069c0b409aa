import { createTestDatabase, type TestDatabase } from "@fanfare-relay/testing/postgres";
import { startSmtpCatcher, type SmtpCatcher } from "@fanfare-relay/testing/smtp-catcher";
import { freePort } from "@fanfare-relay/testing/free-port";
import { sql, type RawBuilder } from "kysely";
import { once } from "node:events";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simulateCommand } from "../src/commands/simulate.ts";
import { runSimulation } from "../src/simulate/run-simulation.ts";
import { runCommand } from "./send-run.ts";
import { SECRET, startIngest, startWorkers, type Ingest, type Workers } from "./simulate-relay.ts";

let ingest: Ingest;
let database: TestDatabase;
let smtp: SmtpCatcher;
let workers: Workers;
let flaky: Server;
let flakyUrl: string;

/**
 * In front of the ingest: every 6th request gets a 503 without reaching it, every 9th reaches it
 * but its answer is replaced by a 502 — the event is stored, the sender retries, the retry is a
 * duplicate.
 */
async function startFlakyProxy(target: string): Promise<{ server: Server; url: string }> {
  let requests = 0;
  const server = createServer((request, response) => {
    requests += 1;
    const nth = requests;
    if (nth % 6 === 0) {
      request.resume();
      response.writeHead(503).end('{"code":"PROXY_UNAVAILABLE"}');
      return;
    }
    const upstream = httpRequest(
      target,
      { method: request.method, headers: request.headers },
      (answer) => {
        if (nth % 9 === 0) {
          answer.resume();
          response.writeHead(502).end('{"code":"PROXY_BAD_GATEWAY"}');
          return;
        }
        response.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(response);
      },
    );
    request.pipe(upstream);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/webhooks/fanfare` };
}

beforeAll(async () => {
  [ingest, database, smtp] = await Promise.all([
    startIngest("cli-simulate"),
    createTestDatabase("cli_simulate"),
    startSmtpCatcher(),
  ]);
  workers = await startWorkers({ db: database.db, prefix: ingest.prefix, smtpUrl: smtp.url });
  ({ server: flaky, url: flakyUrl } = await startFlakyProxy(ingest.url));
});

afterAll(async () => {
  flaky.closeAllConnections();
  flaky.close();
  await workers.close();
  await ingest.close();
  await smtp.stop();
  await database.drop();
});

const count = async (query: RawBuilder<{ count: string }>) =>
  Number((await query.execute(database.db)).rows[0]?.count ?? 0);

// Real services end to end; generous under a loaded CI machine, about 3 s alone.
describe(
  "guarantee: a simulated drop (retries, duplicates, reordering) loses and doubles nothing",
  { timeout: 20_000 },
  () => {
    it("delivers a drop through retries, duplicates and reordering: nothing lost, nothing doubled", async () => {
      const result = await runSimulation({
        db: database.db,
        url: flakyUrl,
        secret: SECRET,
        consumers: 10,
        seed: 42,
        // 1 min → 12 ms … 2 h → 1.4 s: a delivery unlucky enough to fail 4 times stays short.
        timeScale: 0.0002,
        duplicates: 0.3,
        window: 8,
        concurrency: 8,
        waitTimeoutMs: 15_000,
      });
      const { drop, stats, verdict, settling } = result;

      expect(verdict.checks.filter((check) => check.outcome !== "ok")).toEqual([]);
      expect(verdict).toMatchObject({ ok: true, lost: [], undelivered: [], repeatedMails: [] });
      expect(settling).toMatchObject({ timedOut: false, pendingMails: 0 });
      expect(stats.failed).toBe(0);
      expect(stats.retries).toBeGreaterThan(0);
      expect(stats.answers).toMatchObject({ "502": expect.any(Number), "503": expect.any(Number) });
      // Every copy beyond the first, and every retry of a stored event, is answered as a duplicate.
      expect(stats.answeredDuplicate).toBeGreaterThanOrEqual(stats.deliveries - drop.events.length);

      // The rows, counted here independently of the verdict's own queries.
      const { expected, experienceId, eventIdPrefix } = drop;
      const byExperience = (table: string) =>
        count(
          sql`SELECT count(*) AS count FROM ${sql.table(table)} WHERE experience_id = ${experienceId}`,
        );
      const completed = sql<{ count: string }>`SELECT count(*) AS count FROM webhook_events
      WHERE status = 'completed' AND starts_with(event_id, ${eventIdPrefix})`;
      expect(await count(completed)).toBe(expected.events);
      expect(await byExperience("queue_participants")).toBe(10);
      expect(await byExperience("admissions")).toBe(expected.admissions);
      expect(await byExperience("draw_entries")).toBe(expected.drawEntries);
      expect(await byExperience("draw_winners")).toBe(expected.drawWinners);
      expect(await byExperience("auction_bids")).toBe(expected.auctionBids);

      // What reached the SMTP server: each sent outbox row once, no Message-ID twice.
      const sent = result.landed.emails
        .filter((row) => row.status === "sent")
        .reduce((sum, row) => sum + row.count, 0);
      expect(sent).toBeGreaterThan(0);
      const mails = await smtp.waitForMails(sent, 5_000);
      expect(mails).toHaveLength(sent);
      expect(new Set(mails.map((mail) => mail.messageId)).size).toBe(sent);
    });

    it("runs as a command: prints the report and passes", async () => {
      const { lines, error } = await runCommand(simulateCommand(), [
        "simulate",
        "--consumers",
        "4",
        "--seed",
        "5",
        "--url",
        ingest.url,
        "--secret",
        SECRET,
        "--database-url",
        database.url,
        "--wait-timeout",
        "15",
      ]);
      expect(error).toBeUndefined();
      expect(lines[0]).toMatch(/^delivering \d+ deliveries \(\d+ events, \d+ duplicates\) to /);
      expect(lines.find((line) => line.startsWith("drop "))).toMatch(
        /4 consumers, \d+ events \(seed 5\)/,
      );
      expect(lines.find((line) => line.trimStart().startsWith("admissions "))).toBeDefined();
      // The rows table: a header naming each column, then every check with a value in each.
      const header = lines.findIndex((line) => /^ {2}row +expected +actual +outcome$/.test(line));
      expect(header).toBeGreaterThan(0);
      const after = lines.slice(header + 1);
      const rows = after.slice(
        0,
        after.findIndex((line) => !line.startsWith("  ")),
      );
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(row).toMatch(/^ {2}\S.* +(≤ )?\d+ +\d+ {2}ok$/);
      expect(lines.at(-1)).toBe("verdict   OK: nothing lost, nothing doubled");
    });

    it("fails with exit code 1 and names what was lost when events are never processed", async () => {
      // An ingest whose queues no worker consumes: every event is accepted, none completes.
      const orphan = await startIngest("cli-simulate-orphan");
      try {
        const { lines, error } = await runCommand(simulateCommand(), [
          "simulate",
          "--consumers",
          "2",
          "--duplicates",
          "0",
          "--url",
          orphan.url,
          "--secret",
          SECRET,
          "--database-url",
          database.url,
          "--wait-timeout",
          "1",
        ]);
        expect(error?.message).toMatch(/^FAILED: \d+ events lost, \d+ counts short of the drop$/);
        expect(lines).toContain("lost      delivered (2xx) but not completed:");
        expect(
          lines.some((line) => /^ {2}evt_sim_\w+ consumer\.authenticated: missing$/.test(line)),
        ).toBe(true);
      } finally {
        await orphan.close();
      }
    });

    it("says clearly when the ingest or the database cannot be reached", async () => {
      const closed = `http://127.0.0.1:${await freePort()}/webhooks/fanfare`;
      const noIngest = await runCommand(simulateCommand(), ["simulate", "--url", closed]);
      expect(noIngest.error?.message).toMatch(
        /^cannot reach the ingest at .*ECONNREFUSED.*; start it with pnpm start, or pass --url$/,
      );
      const wrongSecret = await runCommand(simulateCommand(), [
        "simulate",
        "--url",
        ingest.url,
        "--secret",
        "whsec_wrong",
      ]);
      expect(wrongSecret.error?.message).toMatch(/refused the signature \(401\); --secret/);
      expect(wrongSecret.lines).toEqual([]);
      const missing = new URL(database.url);
      missing.pathname = "/fanfare_test_does_not_exist";
      const noDatabase = await runCommand(simulateCommand(), [
        "simulate",
        "--url",
        ingest.url,
        "--secret",
        SECRET,
        "--database-url",
        missing.toString(),
      ]);
      expect(noDatabase.error?.message).toMatch(
        /^cannot query the database at .*fanfare_test_does_not_exist.*does not exist.*--database-url$/,
      );
    });
  },
);
