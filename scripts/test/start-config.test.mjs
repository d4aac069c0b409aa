import { describe, expect, it } from "vitest";
import { LOCAL_PREFIX as cliLocalPrefix } from "../../packages/cli/src/env-files.ts";
import { dashboardUrl, LOCAL_PREFIX } from "../start-config.mjs";

describe("pnpm start's configuration", () => {
  it("uses the Redis prefix the CLI defaults to", () => {
    expect(LOCAL_PREFIX).toBe("fanfare-local");
    expect(cliLocalPrefix).toBe(LOCAL_PREFIX);
  });

  it("prints the dashboard's address with DASHBOARD_BASE_PATH, as the dashboard reads it", () => {
    expect(dashboardUrl(3001, undefined)).toBe("http://localhost:3001/");
    expect(dashboardUrl(3001, "")).toBe("http://localhost:3001/");
    expect(dashboardUrl(3001, "/")).toBe("http://localhost:3001/");
    expect(dashboardUrl(3001, "/fanfare")).toBe("http://localhost:3001/fanfare/");
    expect(dashboardUrl(4000, " /ops/fanfare/ ")).toBe("http://localhost:4000/ops/fanfare/");
  });
});
