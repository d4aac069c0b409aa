import { familyQueueNames } from "@fanfare-relay/events/families";
import {
  createWorkerHarness,
  sampleEvent,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import { queueHandlers } from "@fanfare-relay/worker-queue/handlers";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./chromium.ts";
import {
  breakQueueParticipants,
  fixQueueParticipants,
  TRIGGER_MESSAGE,
} from "./failing-trigger.ts";
import { ADMIN, createDashboard, type DashboardHarness } from "./helpers.ts";

const queueName = familyQueueNames.queue;

let worker: WorkerHarness | undefined;
let dashboard: DashboardHarness | undefined;
let browser: Browser | undefined;
/** e.g. http://127.0.0.1:41234 */
let origin = "";

beforeAll(async () => {
  worker = await createWorkerHarness("queue", queueHandlers);
  dashboard = await createDashboard({
    prefix: worker.prefix,
    db: worker.db,
    basePath: "/fanfare/",
  });
  origin = await dashboard.app.listen({ port: 0, host: "127.0.0.1" });
});

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
  if (worker !== undefined) await fixQueueParticipants(worker.db);
  await worker?.close();
});

describe("guarantee: behind a reverse proxy at DASHBOARD_BASE_PATH=/fanfare/, the browser only ever asks for /fanfare/…", () => {
  it("log in through the form, the board, Dead letters via the nav link, a dead letter's job in Bull Board, log out: every request under /fanfare/", async () => {
    if (worker === undefined) throw new Error("no worker");
    await breakQueueParticipants(worker.db);
    const event = sampleEvent("queue.consumer_entered", { consumerId: "con_base_path" });
    const failed = await worker.deliver(event);
    expect(await failed.getState()).toBe("failed");
    const jobId = failed.id ?? "";
    await fixQueueParticipants(worker.db);

    browser = await launchChromium();
    const context = await browser.newContext();
    const page = await context.newPage();
    const requests: string[] = [];
    page.on("request", (request) => {
      requests.push(request.url());
    });
    // Nothing leaves this machine (the leak would be recorded above anyway).
    await context.route("**/*", (route) =>
      new URL(route.request().url()).hostname === "127.0.0.1" ? route.continue() : route.abort(),
    );
    const base = `${origin}/fanfare/`;

    // The login form, posted to /fanfare/login, comes back to the board.
    const first = await page.goto(base);
    expect(first?.status()).toBe(401);
    await page.fill("#username", ADMIN.username);
    await page.fill("#password", ADMIN.password);
    await page.click("button[type=submit]");
    await page.waitForURL(base);
    await page.locator("[class^='header-']").first().waitFor();
    await page.getByRole("link", { name: queueName }).first().waitFor();

    // The board's nav link to the Dead letters page.
    await page.getByRole("link", { name: /^Dead letters \(\d+\)$/ }).click();
    await page.waitForURL(`${base}dead-letters`);
    await page.getByRole("cell", { name: TRIGGER_MESSAGE }).waitFor();

    // The dead letter's job link opens the job in Bull Board, which loads it through its API.
    await page.getByRole("link", { name: event.id }).click();
    await page.waitForURL(`${base}queue/${queueName}/${encodeURIComponent(jobId)}`);
    await page.getByText(TRIGGER_MESSAGE).first().waitFor();
    await page.getByText(jobId, { exact: true }).first().waitFor();

    // Log out from the board's menu: the confirmation page, then the login page.
    await page.locator("header button[aria-haspopup=menu]").last().click();
    await page.getByRole("menuitem", { name: "Log out" }).click();
    await page.waitForURL(`${base}logout`);
    await page.getByRole("main").getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(`${base}login`);
    await page.locator("form[action='/fanfare/login'] #password").waitFor();
    expect((await context.cookies()).filter((cookie) => cookie.value !== "")).toEqual([]);

    // The board itself, its assets and its API calls were among them, all under /fanfare/.
    expect(requests.some((url) => url.startsWith(`${base}static/js/`))).toBe(true);
    expect(requests.some((url) => url.startsWith(`${base}api/queues`))).toBe(true);
    expect(requests.filter((url) => !url.startsWith(base))).toEqual([]);
    await context.close();
  });
});
