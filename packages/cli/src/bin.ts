#!/usr/bin/env -S node --conditions=development --import tsx
import { cliEnv } from "./env-files.ts";
import { buildProgram } from "./program.ts";

try {
  await buildProgram(cliEnv()).parseAsync(process.argv);
} catch (error) {
  // Expected failures (unreachable service, bad input) are reported in one line, never a stack.
  process.stderr.write(
    `fanfare-relay: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
}
