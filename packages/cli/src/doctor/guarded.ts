import { errorMessage, withTimeout } from "../with-timeout.ts";
import { fail, type CheckResult } from "./check.ts";

export interface Guard {
  /** What to do when the check cannot run. */
  advice: string;
  /** What is being checked, for the timeout's message. */
  what: string;
  timeoutMs: number;
}

/**
 * A check that throws or does not answer in time fails with what went wrong; the services are
 * checked concurrently, so doctor takes about one timeout at worst.
 */
export async function guarded(
  name: string,
  { advice, what, timeoutMs }: Guard,
  check: () => Promise<CheckResult>,
): Promise<CheckResult> {
  try {
    return await withTimeout(check(), timeoutMs, what);
  } catch (error) {
    return fail(name, errorMessage(error), advice);
  }
}
