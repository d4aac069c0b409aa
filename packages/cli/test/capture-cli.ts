import { buildProgram } from "../src/program.ts";

export interface CliRun {
  stdout: string;
  stderr: string;
  /** What parseAsync rejected with (bin.ts turns it into one stderr line and exit 1). */
  error: unknown;
}

/** Runs `fanfare-relay <args>` in-process with its output captured. */
export async function runCli(args: readonly string[]): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const program = buildProgram()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => stdout.push(text),
      writeErr: (text) => stderr.push(text),
    });
  let error: unknown;
  try {
    await program.parseAsync([...args], { from: "user" });
  } catch (caught) {
    error = caught;
  }
  return { stdout: stdout.join(""), stderr: stderr.join(""), error };
}
