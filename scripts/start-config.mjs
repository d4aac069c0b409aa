// Small pieces of `pnpm start`'s (scripts/start.mjs) configuration, kept apart so tests can check
// them (and the CLI agree with them) without starting anything.

/**
 * pnpm start's key prefix when REDIS_PREFIX is unset: a shared dev Redis may hold another
 * system's `fanfare` jobs. The CLI defaults to the same (packages/cli/src/env-files.ts).
 */
export const LOCAL_PREFIX = "fanfare-local";

/** The demo shop's port when SHOP_URL and DEMO_SHOP_PORT are unset (ingest 3000, dashboard 3001). */
export const DEMO_SHOP_PORT = 3002;

/**
 * The dashboard's address for the banner: `basePath` is DASHBOARD_BASE_PATH as the dashboard reads
 * it (trimmed; unset or empty is `/`; `/fanfare` and `/fanfare/` both live at `/fanfare/`).
 */
export function dashboardUrl(port, basePath) {
  const path = basePath?.trim() || "/";
  return `http://localhost:${port}${path.endsWith("/") ? path : `${path}/`}`;
}
