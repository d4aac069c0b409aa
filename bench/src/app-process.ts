// One of the project's apps (ingest, worker-*) as its own process, compiled and started as in
// production (`node dist/main.js` in the app's directory, its package.json's start script) with
// only the given environment; its CPU time and peak memory read from /proc.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { processCpuMs, processMemoryMb } from "./proc-stats.ts";

/** The repository's apps directory (bench/ sits next to it). */
const appsDir = fileURLToPath(new URL("../../apps/", import.meta.url));

/**
 * Compiles `apps/<name>` and the workspace packages it uses to their dist/ (turbo + tsc, cached),
 * as the production build does. Throws when the build fails.
 */
export function buildApps(names: readonly string[]): void {
  const result = spawnSync(
    "pnpm",
    [
      "exec",
      "turbo",
      "run",
      "build",
      "--output-logs=errors-only",
      ...names.map((name) => `--filter=@fanfare-relay/${name}...`),
    ],
    { cwd: `${appsDir}..`, stdio: "inherit" },
  );
  if (result.status !== 0) throw new Error(`building ${names.join(", ")} failed`);
}
/** Lines of output kept for an error message. */
const TAIL_LINES = 40;
const STOP_TIMEOUT_MS = 30_000;

export interface AppProcess {
  name: string;
  pid: number;
  /** User + system CPU used so far, ms; undefined off Linux or once it exited. */
  cpuMs(): number | undefined;
  /** Peak resident set so far (VmHWM), MB. */
  peakRssMb(): number | undefined;
  /** The last lines it wrote, for error messages. */
  tail(): string;
  /** SIGTERM (its graceful shutdown), SIGKILL after 30 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts `apps/<name>`'s compiled build (see buildApps), or its sources, and resolves once it logs `<readyText>` (its "… ready" start line).
 * Rejects with its last output when it exits first or logs "not ready".
 */
export async function startApp(
  name: string,
  env: Record<string, string>,
  readyText: string,
  run: "build" | "source" = "build",
  startTimeoutMs = 60_000,
): Promise<AppProcess> {
  // "source": the TypeScript sources under tsx, as `pnpm start` runs them.
  const args =
    run === "build"
      ? ["dist/main.js"]
      : ["--conditions=development", "--import", "tsx", "src/main.ts"];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: `${appsDir}${name}`,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let pending = "";
  let onLine: ((line: string) => void) | undefined;
  const onData = (chunk: Buffer) => {
    pending += chunk.toString();
    const complete = pending.split("\n");
    pending = complete.pop() ?? "";
    for (const line of complete) {
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
      onLine?.(line);
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = once(child, "exit");
  const tail = () => lines.join("\n");
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name} did not start`);

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} not ready after ${String(startTimeoutMs)} ms:\n${tail()}`));
    }, startTimeoutMs);
    onLine = (line) => {
      if (line.includes("not ready")) {
        clearTimeout(timer);
        child.kill("SIGKILL");
        reject(new Error(`${name} started but not ready:\n${line}`));
      } else if (line.includes(readyText)) {
        clearTimeout(timer);
        resolve();
      }
    };
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${String(child.exitCode)}:\n${tail()}`));
    });
  });
  onLine = undefined;

  return {
    name,
    pid,
    cpuMs: () => processCpuMs(pid),
    peakRssMb: () => processMemoryMb(pid, "VmHWM"),
    tail,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      child.kill("SIGTERM");
      await exited;
      clearTimeout(timer);
    },
  };
}
