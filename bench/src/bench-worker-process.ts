// One worker replica in a process of its own, driven by worker-throughput over IPC:
// argv[2] is the BenchWorkerConfig as JSON; "start" starts it, "stop" reports and exits.
import { startBenchWorker, type BenchWorkerConfig } from "./bench-worker.ts";

export type ParentMessage = "start" | "stop";
export type ChildMessage =
  | { type: "ready" }
  | { type: "stopped"; durations: number[]; cpuSeconds: number; systemSeconds: number };

const send = (message: ChildMessage) =>
  new Promise<void>((resolve, reject) => {
    process.send?.(message, undefined, {}, (error: Error | null) => {
      if (error === null) resolve();
      else reject(error);
    });
  });

const worker = await startBenchWorker(JSON.parse(process.argv[2] ?? "{}") as BenchWorkerConfig);
let cpuAtStart = process.cpuUsage();
process.on("message", (message: ParentMessage) => {
  if (message === "start") {
    cpuAtStart = process.cpuUsage();
    worker.start();
    return;
  }
  const cpu = process.cpuUsage(cpuAtStart);
  void send({
    type: "stopped",
    durations: worker.durations,
    cpuSeconds: (cpu.user + cpu.system) / 1_000_000,
    systemSeconds: cpu.system / 1_000_000,
  })
    .then(() => worker.close())
    .then(() => process.exit(0));
});
// Orphaned (the benchmark died): nothing left to report to.
process.on("disconnect", () => process.exit(1));
await send({ type: "ready" });
