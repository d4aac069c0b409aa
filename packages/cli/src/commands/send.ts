import { Command } from "commander";
import { CliError } from "../cli-error.ts";
import { outputOf } from "../output.ts";
import { ingestOptions, resolveIngestTarget } from "../send/defaults.ts";
import { collect, positiveInteger } from "../send/option-parsers.ts";
import { applyOverrides, parseOverride } from "../send/overrides.ts";
import { sendInputsHelp } from "../send/help.ts";
import { resolveEvents } from "../send/resolve-input.ts";
import { describeFailures, formatDelivery, sendEvents } from "../send/run-send.ts";

interface SendFlags {
  url?: string;
  secret?: string;
  set: string[];
  id?: string;
  duplicate: number;
  shuffle: boolean;
  count: number;
  timeout: number;
}

export function sendCommand(env: NodeJS.ProcessEnv = process.env): Command {
  const command = new Command("send")
    .description("Sign and POST events to the ingest, as Fanfare does")
    .argument(
      "<event>",
      "an event type (a fresh sample), a fixture id, or a JSON file (an envelope or an array)",
    );
  for (const option of ingestOptions()) command.addOption(option);
  command.addHelpText("after", sendInputsHelp());
  return command
    .option(
      "--set <path=value>",
      "override a field, e.g. data.consumerId=con_x (repeatable)",
      collect,
      [],
    )
    .option("--id <id>", "event id (one event only)")
    .option("--duplicate <n>", "post each event n times, concurrently", positiveInteger, 1)
    .option("--shuffle", "post the events in random order", false)
    .option("--count <n>", "n events of the type, each with its own id", positiveInteger, 1)
    .option("--timeout <ms>", "per-request timeout", positiveInteger, 10_000)
    .action(async (input: string, flags: SendFlags, self: Command) => {
      const output = outputOf(self);
      const { url, secret } = resolveIngestTarget(flags, env);
      const overrides = flags.set.map(parseOverride);
      let events = await resolveEvents(input, { count: flags.count });
      if (flags.id !== undefined) {
        if (events.length !== 1) {
          throw new CliError(
            "CLI_BAD_OPTION",
            `--id needs exactly one event, not ${events.length}`,
          );
        }
        overrides.push({ path: ["id"], value: flags.id });
      }
      events = events.map((event) => applyOverrides(event, overrides));
      const deliveries = await sendEvents(events, {
        url,
        secret,
        timeoutMs: flags.timeout,
        duplicate: flags.duplicate,
        shuffle: flags.shuffle,
        onResult: (delivery) => {
          output.line(formatDelivery(delivery));
        },
      });
      const failure = describeFailures(deliveries, url);
      if (failure !== undefined) throw new CliError("CLI_DELIVERY_FAILED", failure);
    });
}
