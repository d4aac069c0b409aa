import { describe, expect, it } from "vitest";
import { admissionEmailKey, admissionGrantedEmail } from "../src/admission-granted.ts";
import { auctionWonEmailKey } from "../src/auction-won.ts";
import { drawWinnerEmailKey } from "../src/draw-winner.ts";
import { outbidEmailKey, outbidEmailsOfAuction, outbidEmailsOfBidder } from "../src/outbid.ts";

describe("guarantee: every path that queues a logical email names it with the same key", () => {
  it("4 templates' keys → the outbox keys the workers have always used, ids percent-encoded", () => {
    expect(admissionEmailKey("exp_1", "con:1")).toBe("admission-granted:exp_1:con%3A1");
    expect(drawWinnerEmailKey("draw_1", "con_1")).toBe("draw-winner:draw_1:con_1");
    expect(auctionWonEmailKey("auc_1")).toBe("auction-won:auc_1");
    expect(outbidEmailKey("auc_1", "con_1", 27500)).toBe("outbid:auc_1:con_1:27500");
    expect(
      outbidEmailKey("auc_1", "con_1", 27500).startsWith(outbidEmailsOfBidder("auc_1", "con_1")),
    ).toBe(true);
    expect(outbidEmailsOfBidder("auc_1", "con_1").startsWith(outbidEmailsOfAuction("auc_1"))).toBe(
      true,
    );
  });

  it("a token with markup → escaped in the HTML part, encoded in the link", () => {
    const draft = admissionGrantedEmail({
      key: admissionEmailKey("exp_1", "con_1"),
      to: "a@example.com",
      shopUrl: "https://shop.test",
      token: '<b>"x"&',
      expiresAt: "2025-11-26T10:00:00.000Z",
    });
    expect(draft.template).toBe("admission-granted");
    expect(draft.html).not.toContain("<b>");
    expect(draft.text).toContain("https://shop.test/checkout?token=");
  });
});
