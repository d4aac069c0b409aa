import { Command } from "commander";

export interface Run {
  lines: string[];
  error: Error | undefined;
}

/** Runs one subcommand in-process, as `fanfare-relay <args>` would, capturing what it prints. */
export async function runCommand(subcommand: Command, args: string[]): Promise<Run> {
  const lines: string[] = [];
  const capture = (text: string) => {
    lines.push(...text.split("\n").filter((line) => line !== ""));
  };
  const root = new Command("fanfare-relay")
    .exitOverride()
    .configureOutput({ writeOut: capture, writeErr: capture })
    .addCommand(
      subcommand.exitOverride().configureOutput({ writeOut: capture, writeErr: capture }),
    );
  try {
    await root.parseAsync(args, { from: "user" });
    return { lines, error: undefined };
  } catch (error) {
    return { lines, error: error instanceof Error ? error : new Error(String(error)) };
  }
}
