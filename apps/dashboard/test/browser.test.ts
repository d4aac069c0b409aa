import {
  createWorkerHarness,
  sampleEvent,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import { familyQueueNames } from "@fanfare-relay/events/families";
import { jobIdForEvent } from "@fanfare-relay/queues/job-id";
import { waitUntil } from "@fanfare-relay/testing/spawn-app";
import { queueHandlers } from "@fanfare-relay/worker-queue/handlers";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { countOpenDeadLetters } from "../src/board/dead-letters-link.ts";
import { PERMANENT_FAILURE_HINT } from "../src/board/permanent-failure-hint.ts";
import { launchChromium } from "./chromium.ts";
import { ADMIN, createDashboard, VIEWER, type DashboardHarness } from "./helpers.ts";
import {
  breakQueueParticipants,
  fixQueueParticipants,
  participant,
  TRIGGER_MESSAGE,
} from "./failing-trigger.ts";

const queueName = familyQueueNames.queue;

let worker: WorkerHarness | undefined;
let dashboard: DashboardHarness | undefined;
let browser: Browser | undefined;
let baseUrl = "";

beforeAll(async () => {
  worker = await createWorkerHarness("queue", queueHandlers);
  dashboard = await createDashboard({ prefix: worker.prefix, db: worker.db });
  baseUrl = await dashboard.app.listen({ port: 0, host: "127.0.0.1" });
});

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
  await worker?.close();
});

/** One Chromium for the file, launched by the first test that needs it. */
async function launch(): Promise<Browser> {
  browser ??= await launchChromium();
  return browser;
}

async function loggedInPage(next = "/", user = ADMIN): Promise<Page> {
  const page = await newPage();
  await page.goto(`${baseUrl}${next}`);
  await page.fill("#username", user.username);
  await page.fill("#password", user.password);
  await page.click("button[type=submit]");
  await page.waitForURL(`${baseUrl}${next}`);
  return page;
}

/** The icons of the job actions the first card in `scope` shows, e.g. ["refresh-cw", "pencil"]. */
async function visibleJobActions(scope: Page | Locator): Promise<string[]> {
  const buttons = scope
    .locator("[class^='jobActions-'] > li")
    .first()
    .locator("xpath=..")
    .locator("li");
  await buttons.first().waitFor({ state: "attached" });
  const icons: string[] = [];
  for (const item of await buttons.all()) {
    if (!(await item.isVisible())) continue;
    const svgClass = (await item.locator("svg").getAttribute("class")) ?? "";
    icons.push(/lucide-([a-z0-9-]+)/.exec(svgClass.replace("lucide ", ""))?.[1] ?? svgClass);
  }
  return icons;
}

/**
 * What the pages of the current test asked of another host, or what the Content-Security-Policy
 * refused: checked empty after each test (the dashboard makes no third-party requests).
 */
let leaks: string[] = [];

/** A page that only reaches this machine: anything else is recorded in `leaks` and aborted. */
async function newPage(): Promise<Page> {
  const context = await (await launch()).newContext();
  const page = await context.newPage();
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (new URL(url).hostname === "127.0.0.1") return route.continue();
    leaks.push(`request ${url}`);
    return route.abort();
  });
  page.on("console", (message) => {
    if (/Content.Security.Policy/i.test(message.text())) leaks.push(`csp ${message.text()}`);
  });
  return page;
}

afterEach(() => {
  const found = leaks;
  leaks = [];
  expect(found).toEqual([]);
});

describe("dashboard in a browser", () => {
  it("refuses the UI and the API without a session", async () => {
    const page = await newPage();
    const ui = await page.goto(`${baseUrl}/queue/${queueName}`);
    expect(ui?.status()).toBe(401);
    await expect(page.locator("form[action='/login'] #password").isVisible()).resolves.toBe(true);
    // Nothing of the board's page before login: not the count of open dead letters, no script.
    await expect(page.locator("#fanfare-nav, script[src]").count()).resolves.toBe(0);

    const api = await page.request.get(`${baseUrl}/api/queues`);
    expect(api.status()).toBe(401);
    expect(await api.json()).toMatchObject({ code: "DASHBOARD_UNAUTHENTICATED" });
    await page.context().close();
  });

  it("shows a failed job's error, and Retry runs it again in its worker once the cause is fixed", async () => {
    if (worker === undefined) throw new Error("no worker");
    await breakQueueParticipants(worker.db);
    const event = sampleEvent("queue.consumer_entered", { consumerId: "con_browser" });
    const failed = await worker.deliver(event);
    expect(await failed.getState()).toBe("failed");
    expect(failed.attemptsMade).toBe(6);
    const jobId = failed.id ?? "";

    const page = await newPage();
    await page.goto(`${baseUrl}/dead-letters`);
    await page.fill("#username", ADMIN.username);
    await page.fill("#password", ADMIN.password);
    await page.click("button[type=submit]");

    // Back on the page asked for: the dead letter, linked to its job in Bull Board.
    await page.waitForURL(`${baseUrl}/dead-letters`);
    await page.getByRole("cell", { name: TRIGGER_MESSAGE }).waitFor();
    await page.getByRole("link", { name: event.id }).click();
    await page.waitForURL(`${baseUrl}/queue/${queueName}/${jobId}`);
    await page.getByText(TRIGGER_MESSAGE).first().waitFor();

    // The queue's failed jobs: the job with its error and stack.
    await page.goto(`${baseUrl}/queue/${queueName}?status=failed`);
    await page.getByText(jobId, { exact: true }).waitFor();
    await page.getByText(TRIGGER_MESSAGE).first().waitFor();
    await page.getByText("attempt #6").waitFor();

    await fixQueueParticipants(worker.db);

    const retry = page.locator("[class^='jobActions-'] button").first();
    await retry.hover();
    await page.getByText("Retry", { exact: true }).waitFor();
    await retry.click();
    const confirm = page.getByRole("alertdialog");
    await confirm.getByText("retry this job").waitFor();
    await confirm.getByRole("button", { name: "Confirm" }).click();

    await page.getByRole("link", { name: "COMPLETED", exact: true }).click();
    await page.getByText(jobId, { exact: true }).waitFor({ timeout: 15_000 });

    await waitUntil(async () => (await failed.getState()) === "completed");
    const row = await participant(worker.db, "con_browser");
    expect(row).toMatchObject({ consumer_id: "con_browser", experience_id: event.experienceId });
    // The board's own menu leads to the dead letters, where this one is resolved.
    await page.locator("header button[aria-haspopup=menu]").last().click();
    await page.getByRole("menuitem", { name: "Dead letters" }).click();
    await page.waitForURL(`${baseUrl}/dead-letters`);
    await page.getByText("No open dead letters.").waitFor();
    await page.context().close();
  });

  it("an event id with `:`, `/`, a space, `#`, `?` and non-ASCII: its dead letter links to its job, which shows its error, and Retry applies it", async () => {
    if (worker === undefined) throw new Error("no worker");
    await breakQueueParticipants(worker.db);
    const event = sampleEvent(
      "queue.consumer_entered",
      { consumerId: "con_browser_odd" },
      { id: "ord:42/β x#?" },
    );
    const failed = await worker.deliver(event);
    expect(await failed.getState()).toBe("failed");
    const jobId = failed.id ?? "";
    expect(jobId).toBe(jobIdForEvent(event.id));
    expect(jobId).toMatch(/^~[A-Za-z0-9_.~-]+$/);

    const page = await loggedInPage("/dead-letters");
    await page.getByRole("link", { name: event.id }).click();
    await page.waitForURL(`${baseUrl}/queue/${queueName}/${jobId}`);
    await page.getByText(TRIGGER_MESSAGE).first().waitFor();
    await expect(page.getByText("Job not found").count()).resolves.toBe(0);

    await fixQueueParticipants(worker.db);
    const retry = page.locator("[class^='jobActions-'] li:has(.lucide-refresh-cw) button");
    await retry.click();
    const confirm = page.getByRole("alertdialog");
    await confirm.getByText("retry this job").waitFor();
    await confirm.getByRole("button", { name: "Confirm" }).click();
    await waitUntil(async () => (await failed.getState()) === "completed");
    expect(await participant(worker.db, "con_browser_odd")).toBeDefined();
    await page.context().close();
  });
});

describe("guarantee: the board offers an admin only the actions the server allows", () => {
  it("failed, completed and delayed jobs, a queue's menu and Clean all → only Retry, Promote, Update data (failed), Clean (completed), Pause, Clean all (Completed tab)", async () => {
    if (worker === undefined) throw new Error("no worker");
    await breakQueueParticipants(worker.db);
    const failed = await worker.deliver(
      sampleEvent("queue.consumer_entered", { consumerId: "con_browser_ui" }),
    );
    await fixQueueParticipants(worker.db);
    await worker.deliver(sampleEvent("queue.consumer_entered", { consumerId: "con_ui_done" }));
    const idle = worker.producer.queues.get(familyQueueNames.draw);
    if (idle === undefined) throw new Error("no draw queue");
    const delayedEvent = sampleEvent("draw.entry_created");
    await idle.add(delayedEvent.type, delayedEvent, {
      jobId: jobIdForEvent(delayedEvent.id),
      delay: 600_000,
    });
    const page = await loggedInPage("/");

    await page.goto(`${baseUrl}/queue/${queueName}?status=failed`);
    expect(await visibleJobActions(page)).toEqual(["refresh-cw", "pencil"]);
    await page.getByRole("button", { name: "Retry all" }).waitFor();
    expect(await page.getByRole("button", { name: "Clean all" }).isVisible()).toBe(false);

    await page.goto(`${baseUrl}/queue/${queueName}/${failed.id ?? ""}`);
    await page.getByText(TRIGGER_MESSAGE).first().waitFor();
    expect(await visibleJobActions(page)).toEqual(["refresh-cw", "pencil"]);

    await page.goto(`${baseUrl}/queue/${queueName}?status=completed`);
    expect(await visibleJobActions(page)).toEqual(["trash2"]);
    await page.getByRole("button", { name: "Clean all" }).waitFor();

    await page.goto(`${baseUrl}/queue/${familyQueueNames.draw}?status=delayed`);
    expect(await visibleJobActions(page)).toEqual(["corner-up-left"]);
    await page.getByRole("button", { name: "Promote all" }).waitFor();
    expect(await page.getByRole("button", { name: "Clean all" }).isVisible()).toBe(false);

    await page.locator("[class^='trailing-'] button[aria-haspopup=menu]").last().click();
    const menu = page.getByRole("menu");
    await menu.getByRole("menuitem", { name: "Pause" }).waitFor();
    for (const hidden of ["Add job", "Set concurrency", "Set rate limit", "Empty", "Obliterate"]) {
      expect(await menu.getByRole("menuitem", { name: hidden }).isVisible(), hidden).toBe(false);
    }
    await page.keyboard.press("Escape");

    await failed.retry("failed");
    await waitUntil(async () => (await failed.getState()) === "completed");
    await page.context().close();
  });

  it("a failed job: Duplicate (an editor, then 403) never offered; once retried and completed: no Retry on its page, in the Completed list or the latest list, where it still counts as failed; a viewer: no action at all", async () => {
    if (worker === undefined) throw new Error("no worker");
    await breakQueueParticipants(worker.db);
    const job = await worker.deliver(
      sampleEvent("queue.consumer_entered", { consumerId: "con_browser_again" }),
    );
    expect(await job.getState()).toBe("failed");
    const jobId = job.id ?? "";
    const page = await loggedInPage(`/queue/${queueName}/${jobId}`);
    await page.locator("[class^='statusDot-'][style*='--status-failed']").waitFor();
    // Bull Board renders Retry, Duplicate, Update data and Clean for it; two are hidden.
    await expect(page.locator("[class^='jobActions-'] > li").count()).resolves.toBe(4);
    expect(await visibleJobActions(page)).toEqual(["refresh-cw", "pencil"]);
    // A failure a retry can fix once its cause is gone: no permanent-failure hint.
    await page.getByText(TRIGGER_MESSAGE).first().waitFor();
    await expect(page.getByRole("note").count()).resolves.toBe(0);

    await fixQueueParticipants(worker.db);
    await job.retry("failed");
    await waitUntil(async () => (await job.getState()) === "completed");
    await page.reload();
    await page.locator("[class^='statusDot-'][style*='--status-completed']").waitFor();
    // Duplicate, Retry (it failed once) and Clean rendered; the server refuses the first two.
    await expect(page.locator("[class^='jobActions-'] > li").count()).resolves.toBe(3);
    expect(await visibleJobActions(page)).toEqual(["trash2"]);

    const cardOf = (jobId: string) =>
      page
        .locator("[class^='card-']")
        .filter({ has: page.locator("[class^='jobLink-']", { hasText: jobId }) });
    await page.goto(`${baseUrl}/queue/${queueName}?status=completed`);
    expect(await visibleJobActions(cardOf(jobId))).toEqual(["trash2"]);
    await page.goto(`${baseUrl}/queue/${queueName}`);
    await cardOf(jobId).locator("[class^='statusDot-'], [class^='jobLink-']").first().waitFor();
    expect(await visibleJobActions(cardOf(jobId))).toEqual([]);
    await page.context().close();

    const viewer = await loggedInPage(`/queue/${queueName}?status=completed`, VIEWER);
    await viewer.getByText(jobId, { exact: true }).waitFor();
    await viewer.goto(`${baseUrl}/queue/${queueName}/${jobId}`);
    await viewer.locator("[class^='statusDot-'][style*='--status-completed']").waitFor();
    await expect(viewer.locator("[class^='jobActions-']").count()).resolves.toBe(0);
    await expect(
      viewer.locator("[class^='trailing-'] button[aria-haspopup=menu]").count(),
    ).resolves.toBe(0);
    await viewer.goto(`${baseUrl}/queue/${queueName}?status=completed`);
    await viewer.getByText(jobId, { exact: true }).waitFor();
    await expect(viewer.locator("[class^='jobActions-']").count()).resolves.toBe(0);
    await expect(viewer.getByRole("button", { name: "Clean all" }).count()).resolves.toBe(0);
    await viewer.context().close();
  });
});

describe("guarantee: the board says what to do about a failure no retry can fix, opens any job id from its own list, and shows the way to the dead letters", () => {
  it("data that fails its schema (WORKER_INVALID_PAYLOAD), event id with `:`, a space and non-ASCII: Bull Board's Failed list links to the job, whose page shows the error and, next to it, that retrying alone fails again and to Update data first", async () => {
    if (worker === undefined) throw new Error("no worker");
    const event = sampleEvent(
      "queue.consumer_entered",
      { consumerId: "con_browser_bad_data", position: "first" },
      { id: "pay:7 ü β" },
    );
    const failed = await worker.deliver(event);
    expect(await failed.getState()).toBe("failed");
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toContain("WORKER_INVALID_PAYLOAD");
    const jobId = failed.id ?? "";
    expect(jobId).toBe(jobIdForEvent(event.id));

    const page = await loggedInPage(`/queue/${queueName}?status=failed`);
    const link = page.locator("[class^='jobLink-']", { hasText: jobId });
    const card = page.locator("[class^='card-']").filter({ has: link });
    await card.getByText("WORKER_INVALID_PAYLOAD").first().waitFor();
    await expect(card.getByRole("note").textContent()).resolves.toBe(PERMANENT_FAILURE_HINT);

    await link.click();
    await page.waitForURL(`${baseUrl}/queue/${queueName}/${jobId}?status=failed`);
    await page.getByText("WORKER_INVALID_PAYLOAD").first().waitFor();
    await page.getByText("data.position").first().waitFor();
    const hint = page.getByRole("note");
    await hint.waitFor();
    expect(await hint.textContent()).toBe(PERMANENT_FAILURE_HINT);
    expect(await hint.isVisible()).toBe(true);
    await expect(page.getByText("Job not found").count()).resolves.toBe(0);
    // The hint names the fix, and the fix is offered: Update data next to Retry.
    expect(await visibleJobActions(page)).toEqual(["refresh-cw", "pencil"]);
    // Another tab, then back to Error: one hint, not one per render.
    await page.getByRole("tab", { name: "Data" }).click();
    await page.getByRole("tab", { name: "Error" }).click();
    await page.getByRole("note").waitFor();
    await expect(page.getByRole("note").count()).resolves.toBe(1);
    await page.context().close();
  });

  it("the header's Dead letters (N) entry: visible over Bull Board's header, N = the open dead letters, and it opens the Dead letters page", async () => {
    if (worker === undefined) throw new Error("no worker");
    const open = await countOpenDeadLetters(worker.db);
    expect(open).toBeGreaterThan(0);
    const page = await loggedInPage("/");
    // Once React has drawn its fixed header, the link must still be on top and clickable.
    await page.locator("[class^='header-']").first().waitFor();
    const link = page.getByRole("link", { name: `Dead letters (${String(open)})`, exact: true });
    await link.waitFor();
    expect(await link.isVisible()).toBe(true);
    await link.click();
    await page.waitForURL(`${baseUrl}/dead-letters`);
    await page.getByRole("heading", { name: "Dead letters" }).waitFor();
    await page.context().close();
  });
});
