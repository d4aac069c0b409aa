import { allQueueNames } from "@fanfare-relay/events/families";
import { Command, Option } from "commander";
import { addConnectionOptions, parseConnectionConfig } from "../connection-options.ts";
import { databaseError, openDatabase } from "../database.ts";
import { deadLetterJson, deadLetterTable } from "../dead-letters/format.ts";
import { findLetters, listDeadLetters } from "../dead-letters/queries.ts";
import { describeReplay, replayDeadLetters, type ReplayResult } from "../dead-letters/replay.ts";
import { outputOf } from "../output.ts";
import { openRedis } from "../redis-client.ts";
import { CliError } from "../cli-error.ts";

interface ListOptions {
  all?: boolean;
  queue?: string;
  json?: boolean;
}

interface ReplayOptions {
  all?: boolean;
  queue?: string;
}

const queueOption = (description: string) =>
  new Option("--queue <queue>", description).choices(allQueueNames);

function listCommand(env: NodeJS.ProcessEnv): Command {
  const command = new Command("list")
    .description("List open dead letters (events whose jobs failed for good)")
    .option("--all", "include resolved dead letters")
    .addOption(queueOption("only this queue's"))
    .option("--json", "print JSON with every column and the full error");
  addConnectionOptions(command, "databaseUrl", "timeout");
  return command.action(async (options: ListOptions, self: Command) => {
    const config = parseConnectionConfig(["databaseUrl", "timeout"], self.opts(), env);
    const db = openDatabase({ url: config.databaseUrl, connectTimeoutMs: config.timeout * 1000 });
    const out = outputOf(self);
    try {
      const letters = await listDeadLetters(db, {
        all: options.all === true,
        queue: options.queue,
      }).catch((error: unknown) => {
        throw databaseError(config.databaseUrl, error);
      });
      if (options.json === true) out.line(deadLetterJson(letters));
      else if (letters.length === 0)
        out.line(options.all === true ? "no dead letters" : "no open dead letters");
      else out.line(deadLetterTable(letters));
    } finally {
      await db.destroy();
    }
  });
}

function replayCommand(env: NodeJS.ProcessEnv): Command {
  const command = new Command("replay")
    .description(
      "Put dead letters back on their queue now: the failed job when BullMQ still has it, else a new job with the stored payload",
    )
    .argument("[eventIds...]", "event ids of the dead letters to replay")
    .option("--all", "every open dead letter")
    .addOption(queueOption("with --all: only this queue's"));
  const keys = ["databaseUrl", "redis", "prefix", "timeout"] as const;
  addConnectionOptions(command, ...keys);
  return command.action(async (eventIds: string[], options: ReplayOptions, self: Command) => {
    const all = options.all === true;
    if (all === eventIds.length > 0) {
      throw new CliError("CLI_BAD_OPTION", "name event ids or pass --all (not both)");
    }
    if (!all && options.queue !== undefined) {
      throw new CliError("CLI_BAD_OPTION", "--queue only applies with --all");
    }
    const config = parseConnectionConfig(keys, self.opts(), env);
    const out = outputOf(self);
    const db = openDatabase({ url: config.databaseUrl, connectTimeoutMs: config.timeout * 1000 });
    try {
      const target = all ? { queue: options.queue } : { eventIds };
      const letters = await findLetters(db, target).catch((error: unknown) => {
        throw databaseError(config.databaseUrl, error);
      });
      if (all && letters.length === 0) {
        out.line("no open dead letters");
        return;
      }
      const redis = await openRedis(config.redis, config.timeout * 1000);
      let results: ReplayResult[];
      try {
        results = await replayDeadLetters({
          db,
          redis,
          prefix: config.prefix,
          letters,
          eventIds: all ? undefined : eventIds,
          onResult: (result) => {
            out.line(describeReplay(result));
          },
        });
      } finally {
        redis.disconnect();
      }
      const failed = results.filter(
        (result) => result.outcome.action === "not-found" || result.outcome.action === "error",
      ).length;
      if (failed > 0) {
        throw new CliError(
          "CLI_REPLAY_INCOMPLETE",
          `${String(failed)} of ${String(results.length)} dead letter(s) not replayed`,
        );
      }
    } finally {
      await db.destroy();
    }
  });
}

export function deadLettersCommand(env: NodeJS.ProcessEnv = process.env): Command {
  return new Command("dead-letters")
    .description("List and replay dead letters")
    .addCommand(listCommand(env))
    .addCommand(replayCommand(env));
}
