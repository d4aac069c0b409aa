import { parseWorkerEnv, type WorkerEnv } from "@fanfare-relay/worker/worker-env";

/** Health and metrics port when PORT is not set; each worker app has its own. */
export const DEFAULT_PORT = 9103;

export function loadEnv(env: Record<string, string | undefined> = process.env): WorkerEnv {
  return parseWorkerEnv("worker-auction", DEFAULT_PORT, env);
}
