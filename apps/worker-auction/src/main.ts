import { ConfigError } from "@fanfare-relay/worker/worker-env";
import { runWorkerApp } from "@fanfare-relay/worker/run-worker-app";
import { loadEnv } from "./env.ts";
import { auctionHandlers } from "./handlers.ts";

try {
  await runWorkerApp({ family: "auction", handlers: auctionHandlers, env: loadEnv() });
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exit(1);
}
