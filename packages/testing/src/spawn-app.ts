import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";

export interface RunningApp {
  child: ChildProcessWithoutNullStreams;
  /** Everything the process wrote to stdout and stderr so far. */
  output: () => string;
  /** Resolves once the output contains `text`. */
  waitFor: (text: string) => Promise<void>;
}

/** Node's arguments for an app's sources: tsx, and the workspace packages' sources too. */
export const SOURCE_ARGS = ["--conditions=development", "--import", "tsx", "src/main.ts"];

/**
 * Runs an app as its own process with only `env`: its sources under tsx (as `pnpm start` runs
 * them), or with `args: ["dist/main.js"]` a compiled build. `detached: true` makes it the leader
 * of its own process group, so a test can signal the group (`process.kill(-child.pid, "SIGTERM")`)
 * as a supervisor does.
 */
export function spawnApp(
  appDir: string,
  env: Record<string, string>,
  { detached = false, args = SOURCE_ARGS }: { detached?: boolean; args?: readonly string[] } = {},
): RunningApp {
  const child = spawn(process.execPath, args, {
    cwd: appDir,
    env: { PATH: process.env.PATH ?? "", ...env },
    detached,
  });
  let output = "";
  const waiters: { text: string; resolve: () => void }[] = [];
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const waiter of waiters.filter((w) => output.includes(w.text))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  return {
    child,
    output: () => output,
    waitFor: (text) =>
      output.includes(text)
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ text, resolve })),
  };
}

/** Polls `condition` until it holds; for states only observable by asking (Redis, PostgreSQL). */
export async function waitUntil(
  condition: () => Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
