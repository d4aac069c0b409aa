import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "dashboard",
    // The browser test launches Chromium and runs a worker through six attempts.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
