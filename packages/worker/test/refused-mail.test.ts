import { afterEach, describe, expect, it } from "vitest";
import { createWorkerHarness, sampleEvent, type WorkerHarness } from "../src/testing/harness.ts";
import { stubHandlers, type StubControl } from "./stub-handlers.ts";

let h: WorkerHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const fan = "someone@example.test";

describe("fault: the SMTP server refuses a recipient for good (550 5.1.1)", () => {
  it("1 event whose mail gets 550 on all 6 attempts → applied once, row `dead` with processed_at, 1 open letter, 1 alert; the address in no stored error, log line, alert or BullMQ reason; a retry once accepted → mail sent once, letter resolved, row `completed`, nothing applied twice", async () => {
    const control: StubControl = { failures: 0, runs: 0, mailTo: fan };
    const t = await createWorkerHarness("experience", stubHandlers(control), {
      opsAlertEmail: "ops@shop.test",
    });
    h = t;
    t.smtp.refusedRecipients.add(fan);
    const event = sampleEvent("experience.started");

    const job = await t.deliver(event);

    expect(await job.getState()).toBe("failed");
    expect(job.attemptsMade).toBe(6);
    expect(control.runs).toBe(1);
    const row = await t.db
      .selectFrom("webhook_events")
      .selectAll()
      .where("event_id", "=", event.id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe("dead");
    expect(row.processed_at).toBeInstanceOf(Date);
    const [letter, ...others] = await t.db.selectFrom("webhook_dead_letters").selectAll().execute();
    expect(others).toEqual([]);
    expect(letter).toMatchObject({ event_id: event.id, resolved_at: null });
    expect(letter?.error).toContain("550");
    expect(letter?.error).toContain("[email]");
    const [outbox] = await t.db.selectFrom("email_outbox").selectAll().execute();
    expect(outbox).toMatchObject({ status: "pending", attempts: 6 });
    expect(outbox?.last_error).toContain("[email]");

    // Nothing stored, logged, alerted or kept by BullMQ carries the address (the outbox row's
    // recipient column and the consumer's own row are where it belongs).
    const stored = JSON.stringify([
      await t.db.selectFrom("webhook_events").selectAll().execute(),
      await t.db.selectFrom("webhook_dead_letters").selectAll().execute(),
      await t.db.selectFrom("email_outbox").select(["last_error", "subject"]).execute(),
    ]);
    expect(stored).not.toContain(fan);
    expect(JSON.stringify(t.logs)).not.toContain(fan);
    expect(t.logs.filter((line) => line.msg === "event failed, will retry")).toHaveLength(5);
    expect(t.logs.filter((line) => line.alert === "dead_letter")).toHaveLength(1);
    const alerts = await t.smtp.waitForMails(1);
    expect(alerts.map((mail) => mail.to)).toEqual([["ops@shop.test"]]);
    expect(alerts[0]?.text).toContain("[email]");
    expect(alerts[0]?.text).not.toContain(fan);
    expect(job.failedReason).not.toContain(fan);
    expect(JSON.stringify(job.stacktrace)).not.toContain(fan);

    // The mailbox exists now; an operator retries the job.
    t.smtp.refusedRecipients.delete(fan);
    const settled = t.settled(job.id ?? "");
    await job.retry("failed");
    const retried = await settled;
    expect(await retried.getState()).toBe("completed");
    expect(retried.returnvalue).toEqual({ outcome: "duplicate", emailsSent: 1 });
    expect(control.runs).toBe(1);
    await t.smtp.waitForMails(2);
    expect(t.smtp.mails.filter((mail) => mail.to.includes(fan))).toHaveLength(1);
    expect(
      await t.db
        .selectFrom("webhook_events")
        .select(["status", "last_error"])
        .where("event_id", "=", event.id)
        .executeTakeFirstOrThrow(),
    ).toEqual({ status: "completed", last_error: null });
    const [resolved] = await t.db.selectFrom("webhook_dead_letters").selectAll().execute();
    expect(resolved?.resolved_at).toBeInstanceOf(Date);
    const [sent] = await t.db.selectFrom("email_outbox").selectAll().execute();
    expect(sent).toMatchObject({ status: "sent", last_error: null });
  }, 30_000);
});
