import { connect } from "@fanfare-relay/db/connect";
import { Command } from "commander";
import { randomInt } from "node:crypto";
import { connectionOptions, parseConnectionConfig, redactUrl } from "../connection-options.ts";
import { outputOf } from "../output.ts";
import { CliError } from "../cli-error.ts";
import { ingestOptions, resolveIngestTarget } from "../send/defaults.ts";
import {
  fraction,
  nonNegativeInteger,
  nonNegativeNumber,
  positiveInteger,
} from "../send/option-parsers.ts";
import { checkDatabase, probeIngest } from "../simulate/preflight.ts";
import { formatReport } from "../simulate/report.ts";
import { runSimulation } from "../simulate/run-simulation.ts";

interface SimulateFlags {
  consumers: number;
  url?: string;
  secret?: string;
  databaseUrl?: string;
  timeScale: number;
  duplicates: number;
  seed?: number;
  window: number;
  concurrency: number;
  waitTimeout: number;
  requestTimeout: number;
}

export function simulateCommand(env: NodeJS.ProcessEnv = process.env): Command {
  const command = new Command("simulate")
    .description(
      "Simulate a drop: deliver a coherent set of events like Fanfare (retries, duplicates, " +
        "reordering), wait for the workers, and report what landed; exit 1 if anything was lost or doubled",
    )
    .option("--consumers <n>", "consumers in the drop", positiveInteger, 50);
  for (const option of [...ingestOptions(), ...connectionOptions("databaseUrl")]) {
    command.addOption(option);
  }
  return command
    .option(
      "--time-scale <factor>",
      "multiplies the sender's retry waits (1 min … 8 h)",
      nonNegativeNumber,
      0.001,
    )
    .option("--duplicates <fraction>", "fraction of the events delivered twice", fraction, 0.2)
    .option(
      "--seed <n>",
      "seed of the drop and of the delivery order (default: random, printed)",
      nonNegativeInteger,
    )
    .option("--window <n>", "deliveries are shuffled within windows of n", positiveInteger, 10)
    .option("--concurrency <n>", "deliveries in flight at once", positiveInteger, 10)
    .option("--wait-timeout <seconds>", "how long to wait for the workers", positiveInteger, 120)
    .option("--request-timeout <ms>", "per-request timeout of the sender", positiveInteger, 10_000)
    .action(async (flags: SimulateFlags, self: Command) => {
      const output = outputOf(self);
      const { url, secret } = resolveIngestTarget(flags, env);
      const { databaseUrl } = parseConnectionConfig(["databaseUrl"], flags, env);
      const shownUrl = redactUrl(databaseUrl);
      await probeIngest(url, secret);
      const db = connect({ connectionString: databaseUrl, max: 2, onError: () => undefined });
      try {
        await checkDatabase(db, shownUrl);
        const result = await runSimulation({
          db,
          url,
          secret,
          consumers: flags.consumers,
          seed: flags.seed ?? randomInt(2 ** 31),
          timeScale: flags.timeScale,
          duplicates: flags.duplicates,
          window: flags.window,
          concurrency: flags.concurrency,
          waitTimeoutMs: flags.waitTimeout * 1000,
          requestTimeoutMs: flags.requestTimeout,
          onProgress: (line) => {
            output.line(line);
          },
        });
        for (const line of formatReport(result)) output.line(line);
        if (!result.verdict.ok) throw new CliError("CLI_SIMULATION_FAILED", result.verdict.summary);
      } finally {
        await db.destroy();
      }
    });
}
