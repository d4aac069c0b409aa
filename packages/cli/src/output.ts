import type { Command } from "commander";

export interface Output {
  /** Writes one line to standard output (or the writer the program was configured with). */
  line(text: string): void;
}

/**
 * Commander only copies output settings to subcommands it creates itself, not to added ones, so
 * the root's `configureOutput` is the one place tests and callers redirect output.
 */
export function outputOf(command: Command): Output {
  let root = command;
  while (root.parent !== null) root = root.parent;
  const configured = root.configureOutput();
  const write = (text: string) => {
    if (configured.writeOut === undefined) process.stdout.write(text);
    else configured.writeOut(text);
  };
  return {
    line(text) {
      write(`${text}\n`);
    },
  };
}
