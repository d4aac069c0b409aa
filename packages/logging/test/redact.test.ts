import { describe, expect, it } from "vitest";
import { redactEmailAddresses } from "../src/redact.ts";

describe("redactEmailAddresses", () => {
  it.each([
    [
      "550 5.1.1 <someone@example.test>: Recipient address rejected",
      "550 5.1.1 <[email]>: Recipient address rejected",
    ],
    ["to ada.lovelace+drop@mail.shop.co.uk failed", "to [email] failed"],
    [
      "Can't send mail - all recipients were rejected: 550 <x_y@sub-domain.example>",
      "Can't send mail - all recipients were rejected: 550 <[email]>",
    ],
  ])("removes the address from %j", (input, expected) => {
    expect(redactEmailAddresses(input)).toBe(expected);
    expect(redactEmailAddresses(input)).not.toMatch(/@/);
  });
});

describe("guarantee: redacting e-mail addresses from logged errors leaves package paths in stack traces alone", () => {
  it("a stack trace through pnpm package paths (`pg-pool@3.10.1_pg@8.16.3`, `@bull-board+api@9.10.1_…`, `@fanfare-relay/logging`) → left unchanged, `@` and all", () => {
    const stack = [
      "at Pool.connect (/app/node_modules/.pnpm/pg-pool@3.10.1_pg@8.16.3/node_modules/pg-pool/index.js:45:11)",
      "at /app/node_modules/.pnpm/@bull-board+api@9.10.1_@bull-board+ui@9.10.1_bullmq@5.81.5/node_modules/x.js:1:1",
      "at file:///app/node_modules/@fanfare-relay/logging/src/redact.ts:9:3",
    ].join("\n");
    expect(redactEmailAddresses(stack)).toBe(stack);
  });
});
