import { Command } from "commander";
import { addConnectionOptions, parseConnectionConfig } from "../connection-options.ts";
import { formatChecks, summarize } from "../doctor/format.ts";
import { runDoctor } from "../doctor/run-doctor.ts";
import { outputOf } from "../output.ts";
import { CliError } from "../cli-error.ts";

const plural = (count: number, word: string) => `${String(count)} ${word}${count === 1 ? "" : "s"}`;

export function doctorCommand(env: NodeJS.ProcessEnv = process.env): Command {
  const command = new Command("doctor").description(
    "Check Redis (every master of a cluster, Sentinel's primary), PostgreSQL, SMTP and the ingest secret, with advice for each problem (exit 1 on a failure)",
  );
  const keys = ["redis", "databaseUrl", "smtpUrl", "timeout"] as const;
  command.option(
    "--dev",
    "a development box: a Redis without persistence is a warning, not a failure (default: $FANFARE_DEV=true)",
  );
  addConnectionOptions(command, ...keys);
  return command.action(async (_options: unknown, self: Command) => {
    const opts = self.opts<{ dev?: boolean }>();
    const config = parseConnectionConfig(keys, opts, env);
    const results = await runDoctor({
      ...config,
      dev: opts.dev === true || env.FANFARE_DEV?.trim().toLowerCase() === "true",
      webhookSecrets: env.FANFARE_WEBHOOK_SECRETS,
      timeoutMs: config.timeout * 1000,
    });
    const out = outputOf(self);
    out.line(formatChecks(results));
    const { failed, warned } = summarize(results);
    const warnings = warned > 0 ? `, ${plural(warned, "warning")}` : "";
    if (failed > 0) {
      throw new CliError("CLI_DOCTOR_FAILED", `${plural(failed, "check")} failed${warnings}`);
    }
    out.line(`all checks passed${warnings}`);
  });
}
