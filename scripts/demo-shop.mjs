// `pnpm start`'s stand-in for the shop the workers' mails link to (SHOP_URL, when not set): a
// page per link a mail can hold, saying which demo page it is and for which token, so following
// a link from a caught mail works. Not a shop, and not for production.
import { createServer } from "node:http";

/** The pages a mail links to (packages/emails), by the pattern of their path. */
const pages = [
  { path: /^\/checkout$/, title: "demo checkout" },
  { path: /^\/claim$/, title: "demo prize claim" },
  { path: /^\/auctions\/[^/]+\/checkout$/, title: "demo auction checkout" },
  { path: /^\/auctions\/[^/]+$/, title: "demo auction page" },
];

const escapeHtml = (text) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c],
  );

/**
 * An http.Server (not listening yet) answering GET/HEAD of a mail's link with 200 and a plain
 * page: "This is the demo checkout for token X" (every query parameter listed, HTML-escaped);
 * any other path 404, any other method 405.
 */
export function createDemoShop() {
  return createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://demo-shop.invalid");
    const page = pages.find((candidate) => candidate.path.test(url.pathname));
    const send = (status, title, body) => {
      response.writeHead(status, {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
      });
      response.end(
        request.method === "HEAD"
          ? undefined
          : `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
              `<body><h1>${escapeHtml(title)}</h1>${body}` +
              `<p>Served by <code>pnpm start</code> because SHOP_URL is not set: links in the ` +
              `mails point here. Set SHOP_URL to your shop's address to use it instead.</p></body></html>\n`,
      );
    };
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (!page) {
      send(404, "not a page of the demo shop", `<p>${escapeHtml(url.pathname)}</p>`);
      return;
    }
    const params = [...url.searchParams];
    const segment = url.pathname.split("/")[2] ?? "";
    let what = segment;
    try {
      what = decodeURIComponent(segment);
    } catch {
      // A malformed escape is shown as it came.
    }
    const subject = url.pathname.startsWith("/auctions/") ? ` of auction ${what}` : "";
    const token = url.searchParams.get("token");
    send(
      200,
      page.title,
      `<p>This is the ${escapeHtml(page.title)}${escapeHtml(subject)}${
        token === null ? "" : ` for token <code>${escapeHtml(token)}</code>`
      }.</p>` +
        (params.length === 0
          ? ""
          : `<ul>${params.map(([k, v]) => `<li><code>${escapeHtml(k)}</code>: <code>${escapeHtml(v)}</code></li>`).join("")}</ul>`),
    );
  });
}

/** Starts createDemoShop() on `host:port`; resolves with its base URL once it listens. */
export function listenDemoShop(server, port, host = "127.0.0.1") {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host }, () => {
      server.off("error", reject);
      const address = server.address();
      const shown = host === "127.0.0.1" || host === "0.0.0.0" ? "localhost" : host;
      resolve(`http://${shown}:${address.port}`);
    });
  });
}
