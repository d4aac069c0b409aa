import { defineProject } from "vitest/config";

// The tests of the repository's own scripts (scripts/*.mjs), e.g. pnpm start's log formatting.
export default defineProject({
  test: { name: "scripts", include: ["test/**/*.test.mjs"] },
});
