import {
  createWorkerHarness,
  inMinutes,
  sampleEvent,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queueHandlers } from "../src/handlers.ts";
import { permutations } from "@fanfare-relay/testing/permutations";

let h: WorkerHarness;
beforeAll(async () => {
  h = await createWorkerHarness("queue", queueHandlers);
});
afterAll(async () => {
  await h.close();
});

async function knownConsumer(id: string, email: string) {
  await h.db.insertInto("consumers").values({ id, email }).execute();
}

describe("queue.consumer_admitted", () => {
  it("stores the admission and mails the checkout link with the token and the expiry", async () => {
    await knownConsumer("con_q1", "q1@example.com");
    const expiresAt = inMinutes(10);
    const event = sampleEvent("queue.consumer_admitted", {
      consumerId: "con_q1",
      experienceId: "exp_q1",
      admissionToken: "adm_tok_q1",
      admittedAt: inMinutes(0),
      expiresAt,
    });
    const job = await h.deliver(event);
    expect(await job.getState()).toBe("completed");

    const admission = await h.db
      .selectFrom("admissions")
      .selectAll()
      .where("consumer_id", "=", "con_q1")
      .executeTakeFirstOrThrow();
    expect(admission).toMatchObject({
      status: "active",
      token: "adm_tok_q1",
      experience_id: "exp_q1",
    });
    const [mail] = await h.smtp.waitForMails(1);
    expect(mail?.to).toEqual(["q1@example.com"]);
    expect(mail?.text).toContain("https://shop.test/checkout?token=adm_tok_q1");
    expect(mail?.html).toContain("https://shop.test/checkout?token=adm_tok_q1");
    expect(mail?.text).toContain(expiresAt.slice(0, 16).replace("T", " "));
  });
});

async function admissionOf(consumerId: string) {
  const row = await h.db
    .selectFrom("admissions")
    .selectAll()
    .where("consumer_id", "=", consumerId)
    .executeTakeFirstOrThrow();
  const { consumer_id: _consumer, ...rest } = row;
  return rest;
}

describe("the admission lifecycle", () => {
  it("ends in the same rows for every order of admitted, completed and expired", async () => {
    const expiresAt = inMinutes(10);
    const admittedAt = inMinutes(0);
    const finals = [];
    const orders = permutations(["admitted", "completed", "expired"] as const);
    for (const [index, order] of orders.entries()) {
      const consumerId = `con_order_${String(index)}`;
      await knownConsumer(consumerId, `${consumerId}@example.com`);
      await h.db
        .insertInto("reservations")
        .values({ experience_id: "exp_orders", consumer_id: consumerId, sku: "sku_1" })
        .execute();
      const subject = { consumerId, experienceId: "exp_orders" };
      const events = {
        admitted: sampleEvent("queue.consumer_admitted", {
          ...subject,
          admissionToken: "adm_tok_orders",
          admittedAt,
          expiresAt,
        }),
        completed: sampleEvent("queue.admission_completed", { ...subject, orderId: "ord_1" }),
        expired: sampleEvent("queue.admission_expired", subject),
      };
      for (const step of order) await h.deliver(events[step]);
      finals.push({
        admission: await admissionOf(consumerId),
        reservations: await h.db
          .selectFrom("reservations")
          .select(["status", "released_at"])
          .where("consumer_id", "=", consumerId)
          .execute(),
        emails: await h.db
          .selectFrom("email_outbox")
          .select("status")
          .where("to_address", "=", `${consumerId}@example.com`)
          .execute(),
      });
    }
    for (const final of finals) {
      expect(final.admission).toEqual(finals[0]?.admission);
      expect(final.reservations).toEqual([{ status: "converted", released_at: null }]);
    }
    expect(finals[0]?.admission).toMatchObject({
      status: "completed",
      token: "adm_tok_orders",
      order_id: "ord_1",
    });
    // Mail only where "admitted" came first, and it is sent: later facts could not cancel it.
    const mailed = finals.map((final) => final.emails.map((e) => e.status));
    expect(mailed).toEqual(orders.map((order) => (order[0] === "admitted" ? ["sent"] : [])));
  });

  it("expiry releases the held reservations; no mail goes to a consumer without an email", async () => {
    await h.db
      .insertInto("reservations")
      .values({ experience_id: "exp_exp", consumer_id: "con_silent", sku: "sku_2", quantity: 2 })
      .execute();
    const subject = { consumerId: "con_silent", experienceId: "exp_exp" };
    const admitted = await h.deliver(
      sampleEvent("queue.consumer_admitted", { ...subject, expiresAt: inMinutes(5) }),
    );
    expect(await admitted.getState()).toBe("completed");
    await h.deliver(sampleEvent("queue.admission_expired", subject));

    expect(await admissionOf("con_silent")).toMatchObject({ status: "expired" });
    const [reservation] = await h.db
      .selectFrom("reservations")
      .selectAll()
      .where("consumer_id", "=", "con_silent")
      .execute();
    expect(reservation).toMatchObject({ status: "released" });
    expect(reservation?.released_at).toBeInstanceOf(Date);
    expect(
      await h.db
        .selectFrom("email_outbox")
        .where("to_address", "like", "%silent%")
        .selectAll()
        .execute(),
    ).toEqual([]);
    const analytics = await h.db
      .selectFrom("analytics_events")
      .select("name")
      .where(sql<boolean>`properties->>'consumerId' = 'con_silent'`)
      .orderBy("id")
      .execute();
    expect(analytics.map((a) => a.name)).toEqual(["admission_granted", "admission_expired"]);
  });

  it("sends no mail for an admission whose window has already passed", async () => {
    await knownConsumer("con_late", "late@example.com");
    const job = await h.deliver(
      sampleEvent("queue.consumer_admitted", { consumerId: "con_late", expiresAt: inMinutes(-1) }),
    );
    expect(job.returnvalue).toEqual({ outcome: "applied", emailsSent: 0 });
  });
});

describe("queue participants", () => {
  it("keep entry and exit whatever the order", async () => {
    const subject = { consumerId: "con_p", experienceId: "exp_p", distributionId: "dist_p" };
    const left = sampleEvent("queue.consumer_left", { ...subject, reason: "user_cancelled" });
    const entered = sampleEvent("queue.consumer_entered", { ...subject, position: 7 });
    await h.deliver(left);
    await h.deliver(entered);
    const row = await h.db
      .selectFrom("queue_participants")
      .selectAll()
      .where("consumer_id", "=", "con_p")
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      position: 7,
      left_reason: "user_cancelled",
      distribution_id: "dist_p",
    });
    expect(row.entered_at).toBeInstanceOf(Date);
    expect(row.left_at).toBeInstanceOf(Date);
  });
});

describe("guarantee: duplicate queue events apply once", () => {
  it("a redelivery after the job was removed applies nothing and mails nothing more", async () => {
    await knownConsumer("con_dup", "dup@example.com");
    const event = sampleEvent("queue.consumer_admitted", {
      consumerId: "con_dup",
      expiresAt: inMinutes(10),
    });
    const first = await h.deliver(event);
    expect(first.returnvalue).toEqual({ outcome: "applied", emailsSent: 1 });
    await first.remove();
    const again = await h.deliver(event);
    expect(again.returnvalue).toEqual({ outcome: "duplicate", emailsSent: 0 });
    expect(h.smtp.mails.filter((mail) => mail.to.includes("dup@example.com"))).toHaveLength(1);
  });
});
