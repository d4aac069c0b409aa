/** Escapes text (and attribute values) for HTML email bodies: event data is not trusted markup. */
export { default as escapeHtml } from "escape-html";

/** A link into the shop, with query values encoded. */
export function shopLink(
  shopUrl: string,
  path: string,
  query: Record<string, string> = {},
): string {
  const url = new URL(path, shopUrl.endsWith("/") ? shopUrl : `${shopUrl}/`);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  return url.toString();
}

/** A readable UTC time for email bodies, independent of the worker's locale. */
export function formatInstant(iso: string | Date): string {
  const date = typeof iso === "string" ? new Date(iso) : iso;
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
