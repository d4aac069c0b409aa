import type { Envelope } from "@fanfare-relay/events/envelope";
import { EventProducer } from "@fanfare-relay/queues/producer";
import { createTestDatabase, type TestDatabase } from "@fanfare-relay/testing/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDashboard, type DashboardHarness } from "./helpers.ts";

let database: TestDatabase;
let d: DashboardHarness;
let producer: EventProducer;
let cookies: Record<string, string>;

beforeAll(async () => {
  database = await createTestDatabase("dashboard");
  d = await createDashboard({ db: database.db });
  producer = new EventProducer({ connection: d.redis, prefix: d.prefix });
  await producer.waitUntilReady();
  cookies = await d.login();
});
afterAll(async () => {
  await producer.close();
  await d.close();
  await database.drop();
});

const envelope = (id: string, type: string): Envelope => ({
  id,
  type,
  created: Math.floor(Date.now() / 1000),
  organizationId: "org_dl",
  data: {},
});

async function deadLetter(event: Envelope, jobId: string, queueName: string, extra = {}) {
  await database.db
    .insertInto("webhook_dead_letters")
    .values({
      event_id: event.id,
      type: event.type,
      queue_name: queueName,
      job_id: jobId,
      payload: JSON.stringify(event),
      error: "boom",
      ...extra,
    })
    .execute();
}

/** The href of the link whose text is `text`, as the browser would follow it. */
function linkTo(html: string, text: string): string {
  const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`<a href="([^"]+)">${escaped}</a>`).exec(html);
  if (match?.[1] === undefined) throw new Error(`no link to ${text}`);
  return match[1].replaceAll("&amp;", "&").replaceAll("&#39;", "'").replaceAll("&quot;", '"');
}

describe("GET /dead-letters", () => {
  it("lists open dead letters, escaped, each linked to its job in Bull Board", async () => {
    // An id that the job-id mapping must escape: the link carries the job id unchanged.
    const odd = envelope("ord:42/β", "draw.entry_created");
    const plain = envelope("evt_dead_plain", "queue.consumer_entered");
    const oddJob = await producer.enqueue(odd);
    const plainJob = await producer.enqueue(plain);
    expect(oddJob.jobId).toBe("~ord~3A42~2F~CE~B2");
    await deadLetter(odd, oddJob.jobId, oddJob.queueName, {
      error: 'invalid payload: <script>alert("x")</script>',
      retry_count: 2,
      failed_at: new Date("2026-11-20T10:00:00Z"),
    });
    await deadLetter(plain, plainJob.jobId, plainJob.queueName, {
      failed_at: new Date("2026-11-21T10:00:00Z"),
    });
    await deadLetter(
      envelope("evt_dead_resolved", "queue.consumer_left"),
      "evt_dead_resolved",
      "fanfare-queue",
      {
        resolved_at: new Date(),
      },
    );

    const response = await d.app.inject({ url: "/dead-letters", cookies });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toContain("text/html");
    const html = response.body;
    expect(html).toContain("2 open dead letters");
    expect(html).not.toContain("evt_dead_resolved");
    expect(html).not.toContain("<script>alert");
    expect(html).toContain("invalid payload: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(html).toContain("2026-11-20 10:00:00 UTC");
    // Newest first.
    expect(html.indexOf("evt_dead_plain")).toBeLessThan(html.indexOf("ord:42/β"));
    // A way back to the board, and out.
    expect(html).toContain('<a href="/">Queues</a>');
    expect(html).toContain('<form method="post" action="/logout">');

    const plainLink = linkTo(html, "evt_dead_plain");
    expect(plainLink).toBe("/queue/fanfare-queue/evt_dead_plain");
    const oddLink = linkTo(html, "ord:42/β");
    expect(oddLink).toBe("/queue/fanfare-draw/~ord~3A42~2F~CE~B2");

    for (const [link, job] of [
      [plainLink, plainJob],
      [oddLink, oddJob],
    ] as const) {
      // The link opens Bull Board…
      const board = await d.app.inject({ url: link, headers: { accept: "text/html" }, cookies });
      expect(board.statusCode).toBe(200);
      expect(board.body).toContain('id="__UI_CONFIG__"');
      // …whose UI reads the job id from the path (decoded) and asks its API for that job.
      const [, , queueName = "", encodedJobId = ""] = link.split("/");
      const jobId = decodeURIComponent(encodedJobId);
      expect(jobId).toBe(job.jobId);
      const api = await d.app.inject({
        url: `/api/queues/${queueName}/${encodeURIComponent(jobId)}`,
        cookies,
      });
      expect(api.statusCode).toBe(200);
      expect(api.json()).toMatchObject({ job: { id: job.jobId } });
    }
  });

  it("shows when each letter failed with its date and timezone, 10:41:07.123+01:00 → 2026-11-30 09:41:07 UTC", async () => {
    const event = envelope("evt_dead_time", "queue.consumer_entered");
    const job = await producer.enqueue(event);
    await deadLetter(event, job.jobId, job.queueName, {
      failed_at: new Date("2026-11-30T10:41:07.123+01:00"),
    });
    const response = await d.app.inject({ url: "/dead-letters", cookies });
    const row = response.body.split("<tr>").find((part) => part.includes("evt_dead_time")) ?? "";
    // Readable in UTC, whatever the server's or the reader's zone, and exact for a machine.
    expect(row).toContain(
      '<time datetime="2026-11-30T09:41:07.123Z">2026-11-30 09:41:07 UTC</time>',
    );
  });

  it("needs a session", async () => {
    const response = await d.app.inject({ url: "/dead-letters" });
    expect(response.statusCode).toBe(401);
  });

  it("without DATABASE_URL says that it needs it", async () => {
    const noDb = await createDashboard();
    try {
      const response = await noDb.app.inject({ url: "/dead-letters", cookies: await noDb.login() });
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain("This view needs DATABASE_URL");
    } finally {
      await noDb.close();
    }
  });

  it("answers 503 when the database does not answer", async () => {
    const gone = await createTestDatabase("dashboard_gone");
    const broken = await createDashboard({ db: gone.db });
    try {
      const session = await broken.login();
      await gone.drop();
      const response = await broken.app.inject({ url: "/dead-letters", cookies: session });
      expect(response.statusCode).toBe(503);
      expect(response.body).toContain("The database did not answer");
    } finally {
      await broken.close();
    }
  });

  it("in demo mode carries the demo banner, 1 page → banner shown", async () => {
    const demo = await createDashboard({ db: database.db, demo: true });
    try {
      const response = await demo.app.inject({ url: "/dead-letters", cookies: await demo.login() });
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('<div class="demo" role="note">DEMO');
    } finally {
      await demo.close();
    }
    const plain = await d.app.inject({ url: "/dead-letters", cookies });
    expect(plain.body).not.toContain('class="demo"');
  });
});

describe("the board's Dead letters link", () => {
  /** The text of the link to /dead-letters that the dashboard adds to Bull Board's page. */
  async function boardLink(harness: DashboardHarness, session: Record<string, string>) {
    const response = await harness.app.inject({
      url: "/",
      headers: { accept: "text/html" },
      cookies: session,
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('id="__UI_CONFIG__"');
    const match =
      /<nav id="fanfare-nav"[^>]*><a href="\/dead-letters"[^>]*>([^<]*)<\/a><\/nav>/.exec(
        response.body,
      );
    return match?.[1];
  }

  it("counts open dead letters only, 1 more open and 1 resolved → N + 1", async () => {
    const before = await boardLink(d, cookies);
    const n = Number(/^Dead letters \((\d+)\)$/.exec(before ?? "")?.[1]);
    expect(Number.isInteger(n)).toBe(true);
    const open = envelope("evt_dead_link_open", "queue.consumer_entered");
    const job = await producer.enqueue(open);
    await deadLetter(open, job.jobId, job.queueName);
    await deadLetter(
      envelope("evt_dead_link_resolved", "queue.consumer_left"),
      "evt_dead_link_resolved",
      "fanfare-queue",
      { resolved_at: new Date() },
    );
    expect(await boardLink(d, cookies)).toBe(`Dead letters (${String(n + 1)})`);
  });

  it("without DATABASE_URL is shown without a count", async () => {
    const noDb = await createDashboard();
    try {
      expect(await boardLink(noDb, await noDb.login())).toBe("Dead letters");
    } finally {
      await noDb.close();
    }
  });
});
