import { permutations } from "@fanfare-relay/testing/permutations";
import { consumerHandlers } from "@fanfare-relay/worker-consumer/handlers";
import {
  createWorkerHarness,
  inMinutes,
  sampleEvent,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queueHandlers } from "../src/handlers.ts";
import {
  admissionLifecycle,
  admissionOf,
  admissionOutcome,
  deliverInOrder,
  YOURE_IN,
  type AdmissionStep,
} from "./admission-orders.ts";

let h: WorkerHarness;
beforeAll(async () => {
  // The consumer worker runs alongside: the sign-in arrives on its own queue.
  h = await createWorkerHarness(
    "queue",
    queueHandlers,
    {},
    { alongside: [{ family: "consumer", handlers: consumerHandlers }] },
  );
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

describe("the admission lifecycle", () => {
  it('24 orders of admitted, completed, expired and a sign-in repeating the email already known → identical rows; 1 "You\'re in" exactly when admitted came before the end, never a second one from the sign-in', async () => {
    const expiresAt = inMinutes(10);
    const admittedAt = inMinutes(0);
    const orders = permutations<AdmissionStep>([
      "admitted",
      "completed",
      "expired",
      "authenticated",
    ]);
    const finals = await Promise.all(
      orders.map(async (order, index) => {
        const consumerId = `con_order_${String(index)}`;
        const address = `${consumerId}@example.com`;
        await knownConsumer(consumerId, address);
        await h.db
          .insertInto("reservations")
          .values({ experience_id: "exp_orders", consumer_id: consumerId, sku: "sku_1" })
          .execute();
        const events = admissionLifecycle(
          { consumerId, experienceId: "exp_orders" },
          { token: "adm_tok_orders", admittedAt, expiresAt, email: address },
        );
        await deliverInOrder(
          h,
          order.map((step) => events[step]),
        );
        return { order, consumerId, ...(await admissionOutcome(h, consumerId, address)) };
      }),
    );
    for (const final of finals) {
      const label = final.order.join(" → ");
      expect(final.admission, label).toEqual(finals[0]?.admission);
      expect(final.reservations, label).toEqual([{ status: "converted", released_at: null }]);
      // The email is known from the start: the mail is owed while the admission is open, and sent
      // by the admission itself; later facts could not cancel it, nor the sign-in repeat it.
      const end = Math.min(final.order.indexOf("completed"), final.order.indexOf("expired"));
      const owed = final.order.indexOf("admitted") < end;
      expect(final.mails, label).toEqual(owed ? [YOURE_IN] : []);
      expect(final.outbox, label).toEqual(
        owed
          ? [{ email_key: `admission-granted:exp_orders:${final.consumerId}`, status: "sent" }]
          : [],
      );
    }
    expect(finals[0]?.admission).toMatchObject({
      status: "completed",
      token: "adm_tok_orders",
      order_id: "ord_1",
    });
    expect(finals.filter((final) => final.mails.length === 1)).toHaveLength(8);
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

    expect(await admissionOf(h, "con_silent")).toMatchObject({ status: "expired" });
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
