import { findConsumerEmail } from "@fanfare-relay/worker/consumer-email";
import { createWorkerHarness, type WorkerHarness } from "@fanfare-relay/worker/testing/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consumerHandlers } from "../src/handlers.ts";
import {
  analyticsOf,
  at,
  authenticated,
  consumerFacts,
  linked,
  outboxCount,
} from "./consumer-fixtures.ts";

let h: WorkerHarness;
beforeAll(async () => {
  h = await createWorkerHarness("consumer", consumerHandlers);
});
afterAll(async () => {
  // Nothing is owed to these consumers (no admission, win or auction here): no mail may be queued.
  expect(h.smtp.mails).toEqual([]);
  expect(await outboxCount(h.db)).toBe(0);
  await h.close();
});

async function deliverCompleted(...events: Parameters<WorkerHarness["deliver"]>[0][]) {
  for (const event of events) {
    const job = await h.deliver(event);
    expect(await job.getState()).toBe("completed");
  }
}

const emailFor = (consumerId: string) =>
  h.db.transaction().execute((tx) => findConsumerEmail(tx, consumerId));

describe("consumer.authenticated", () => {
  it("creates the consumer with its email, method and time, and records PII-free analytics", async () => {
    const before = new Date(Date.now() - 1000);
    const event = authenticated("con_a1", {
      at: at(5),
      email: "a1@example.com",
      method: "email_otp",
    });
    await deliverCompleted(event);

    const row = await h.db
      .selectFrom("consumers")
      .selectAll()
      .where("id", "=", "con_a1")
      .executeTakeFirstOrThrow();
    expect(row).toEqual({
      id: "con_a1",
      email: "a1@example.com",
      email_observed_at: new Date(at(5)),
      auth_method: "email_otp",
      authenticated_at: new Date(at(5)),
      external_customer_id: null,
      linked_at: null,
      updated_at: expect.any(Date),
    });
    expect(row.updated_at.getTime()).toBeGreaterThanOrEqual(before.getTime());

    const analytics = await analyticsOf(h.db, event.id);
    expect(analytics).toEqual([
      {
        name: "consumer_authenticated",
        properties: { consumerId: "con_a1", method: "email_otp", emailProvided: true },
      },
    ]);
    expect(JSON.stringify(analytics)).not.toContain("a1@example.com");
  });

  it("keeps the known email when a later sign-in carries none (absent or null)", async () => {
    await deliverCompleted(
      authenticated("con_a2", { at: at(5), email: "a2@example.com", method: "email_otp" }),
      authenticated("con_a2", { at: at(6), method: "passkey" }),
      authenticated("con_a2", { at: at(7), email: null, method: "sms_otp" }),
    );
    expect(await consumerFacts(h.db, "con_a2")).toEqual({
      email: "a2@example.com",
      email_observed_at: new Date(at(5)),
      auth_method: "sms_otp",
      authenticated_at: new Date(at(7)),
      external_customer_id: null,
      linked_at: null,
    });
  });

  it("lets a late, older sign-in change nothing but updated_at", async () => {
    await h.db
      .insertInto("consumers")
      .values({ id: "con_a3", updated_at: "2020-01-01T00:00:00.000Z" })
      .execute();
    await deliverCompleted(
      authenticated("con_a3", { at: at(9), email: "new@example.com", method: "passkey" }),
    );
    const afterNewer = await consumerFacts(h.db, "con_a3");
    await h.db
      .updateTable("consumers")
      .set({ updated_at: "2020-01-01T00:00:00.000Z" })
      .where("id", "=", "con_a3")
      .execute();

    await deliverCompleted(
      authenticated("con_a3", { at: at(4), email: "old@example.com", method: "email_otp" }),
    );
    expect(await consumerFacts(h.db, "con_a3")).toEqual(afterNewer);
    expect(afterNewer).toMatchObject({ email: "new@example.com", auth_method: "passkey" });
    const { updated_at } = await h.db
      .selectFrom("consumers")
      .select("updated_at")
      .where("id", "=", "con_a3")
      .executeTakeFirstOrThrow();
    expect(updated_at.getTime()).toBeGreaterThan(new Date("2020-01-02").getTime());
  });

  it("keeps an email stored without a time until an event carries one", async () => {
    await h.db
      .insertInto("consumers")
      .values({ id: "con_a4", email: "seeded@example.com" })
      .execute();
    await deliverCompleted(authenticated("con_a4", { at: at(1), method: "passkey" }));
    expect(await consumerFacts(h.db, "con_a4")).toMatchObject({
      email: "seeded@example.com",
      email_observed_at: null,
    });
    // No time stored to compare with: any dated email is newer knowledge.
    await deliverCompleted(authenticated("con_a4", { at: at(0), email: "a4@example.com" }));
    expect(await consumerFacts(h.db, "con_a4")).toMatchObject({
      email: "a4@example.com",
      email_observed_at: new Date(at(0)),
      auth_method: "passkey",
      authenticated_at: new Date(at(1)),
    });
  });
});

describe("consumer.linked", () => {
  it("stores the external customer id, link time and email, and records analytics", async () => {
    const event = linked("con_l1", {
      at: at(8),
      externalCustomerId: "shop_cus_l1",
      email: "l1@example.com",
    });
    await deliverCompleted(event);

    expect(await consumerFacts(h.db, "con_l1")).toEqual({
      email: "l1@example.com",
      email_observed_at: new Date(at(8)),
      auth_method: null,
      authenticated_at: null,
      external_customer_id: "shop_cus_l1",
      linked_at: new Date(at(8)),
    });
    const analytics = await analyticsOf(h.db, event.id);
    expect(analytics).toEqual([
      {
        name: "consumer_linked",
        properties: {
          consumerId: "con_l1",
          externalCustomerId: "shop_cus_l1",
          emailProvided: true,
        },
      },
    ]);
    expect(JSON.stringify(analytics)).not.toContain("l1@example.com");
  });

  it("merges into an authenticated consumer without touching its sign-in facts", async () => {
    await deliverCompleted(
      authenticated("con_l2", { at: at(5), email: "l2@example.com", method: "email_otp" }),
      linked("con_l2", { at: at(8), externalCustomerId: "shop_cus_l2" }),
    );
    expect(await consumerFacts(h.db, "con_l2")).toEqual({
      email: "l2@example.com",
      email_observed_at: new Date(at(5)),
      auth_method: "email_otp",
      authenticated_at: new Date(at(5)),
      external_customer_id: "shop_cus_l2",
      linked_at: new Date(at(8)),
    });
  });
});

describe("the address other families mail to", () => {
  it("is the latest email consumer events reported", async () => {
    await deliverCompleted(authenticated("con_m1", { at: at(5), email: "first@example.com" }));
    expect(await emailFor("con_m1")).toBe("first@example.com");

    await deliverCompleted(
      linked("con_m1", { at: at(8), externalCustomerId: "shop_cus_m1", email: "shop@example.com" }),
      authenticated("con_m1", { at: at(6), email: "stale@example.com" }),
      authenticated("con_m1", { at: at(9), email: null }),
    );
    expect(await emailFor("con_m1")).toBe("shop@example.com");
  });

  it("is unknown for a consumer whose sign-in carried no email, or who was never seen", async () => {
    await deliverCompleted(authenticated("con_m2", { at: at(5), method: "passkey" }));
    expect(await emailFor("con_m2")).toBeUndefined();
    expect(await emailFor("con_never_seen")).toBeUndefined();
  });
});
