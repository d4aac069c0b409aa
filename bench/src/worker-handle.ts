// A worker replica under the benchmark's control, in this process or in a child process of its
// own (a replica as deployed: its own event loop, so it can use another core).
import { fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { ChildMessage, ParentMessage } from "./bench-worker-process.ts";
import { startBenchWorker, type BenchWorkerConfig } from "./bench-worker.ts";

export interface WorkerReport {
  durations: number[];
  /** CPU the replica's process used between start and stop; 0 in this process (counted here). */
  cpuSeconds: number;
  systemSeconds: number;
}

export interface WorkerHandle {
  start(): void;
  /** Stops the replica (jobs in progress finish) and reports. */
  stop(): Promise<WorkerReport>;
  /** Ends it however it is, after a failure. */
  abort(): Promise<void>;
}

export async function inProcessWorker(config: BenchWorkerConfig): Promise<WorkerHandle> {
  const worker = await startBenchWorker(config);
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= worker.close());
  return {
    start: () => {
      worker.start();
    },
    async stop() {
      await close();
      return { durations: worker.durations, cpuSeconds: 0, systemSeconds: 0 };
    },
    abort: close,
  };
}

export async function forkedWorker(config: BenchWorkerConfig): Promise<WorkerHandle> {
  const child = fork(
    fileURLToPath(new URL("./bench-worker-process.ts", import.meta.url)),
    [JSON.stringify(config)],
    { execArgv: ["--conditions=development", "--import", "tsx"], stdio: "inherit" },
  );
  const next = async (type: ChildMessage["type"]) => {
    for (;;) {
      const [message] = (await once(child, "message")) as [ChildMessage];
      if (message.type === type) return message;
    }
  };
  const exited = once(child, "exit");
  const failed = exited.then(() => {
    throw new Error(`worker process exited with ${String(child.exitCode)}`);
  });
  await Promise.race([next("ready"), failed]);
  const send = (message: ParentMessage) => child.send(message);
  return {
    start: () => send("start"),
    async stop() {
      const stopped = next("stopped");
      send("stop");
      const report = await Promise.race([stopped, failed]);
      await exited;
      if (report.type !== "stopped") throw new Error("unexpected message");
      const { durations, cpuSeconds, systemSeconds } = report;
      return { durations, cpuSeconds, systemSeconds };
    },
    async abort() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}
