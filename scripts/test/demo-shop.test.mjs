import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDemoShop, listenDemoShop } from "../demo-shop.mjs";

const server = createDemoShop();
let base;
beforeAll(async () => {
  base = await listenDemoShop(server, 0);
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe("pnpm start's demo shop", () => {
  it("answers a mail's checkout link with a page naming its token", async () => {
    const response = await fetch(`${base}/checkout?token=adm_abc123`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await response.text()).toContain(
      "This is the demo checkout for token <code>adm_abc123</code>",
    );
  });

  it("answers the other links a mail can hold", async () => {
    for (const path of [
      "/claim?draw=drw_1&token=clm_1",
      "/auctions/auc_1",
      "/auctions/auc_1/checkout",
    ]) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(200);
    }
    expect(await (await fetch(`${base}/auctions/auc_%3Cb%3E/checkout`)).text()).toContain(
      "demo auction checkout of auction auc_&lt;b&gt;",
    );
  });

  it("escapes what the link carries, and answers nothing else", async () => {
    const page = await (await fetch(`${base}/checkout?token=%3Cscript%3E`)).text();
    expect(page).toContain("&lt;script&gt;");
    expect(page).not.toContain("<script>");
    expect((await fetch(`${base}/admin`)).status).toBe(404);
    expect((await fetch(`${base}/checkout`, { method: "POST" })).status).toBe(405);
  });
});
