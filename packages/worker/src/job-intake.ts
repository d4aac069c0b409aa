import type { Worker } from "bullmq";

export interface JobIntakeDeps {
  /** The family's BullMQ worker, created with `autorun: false`. */
  worker: Pick<Worker, "isPaused" | "isRunning" | "pause" | "resume" | "closing">;
  /** Starts the worker the first time (FamilyWorker.start: the run loop and the re-drive timer). */
  start: () => void;
  /**
   * Adds a marker to the queue's marker set (`ZADD <worker.keys.marker> 0 "0"`, what BullMQ does
   * with every job), waking a fetch blocked on it.
   */
  wake: () => Promise<unknown>;
}

/**
 * Whether this process takes jobs from its queue. While the database is unreachable every job
 * would fail and burn one of its six attempts (and the failure could not even be recorded), so the
 * worker stops fetching (BullMQ's local `pause(true)`: jobs in progress carry on, the queue is
 * untouched and other replicas keep working) and takes jobs again once it answers.
 *
 * `open()` is meant to be called after every successful check, not only on a change: BullMQ's run
 * loop exits on its own some time after a pause, and a resume that lands in that window leaves a
 * worker neither paused nor running; the next `open()` restarts it.
 */
export class JobIntake {
  #started = false;

  constructor(private readonly deps: JobIntakeDeps) {}

  /** True once the worker was started (the first `open()`). */
  get started(): boolean {
    return this.#started;
  }

  /** True while the worker fetches jobs (started, not paused, not closing). */
  get open(): boolean {
    const { worker } = this.deps;
    return this.#started && !worker.isPaused() && worker.closing === undefined;
  }

  /** True while the process is where it should be: waiting (not started or paused) or running. */
  get alive(): boolean {
    const { worker } = this.deps;
    return !this.#started || worker.isPaused() || worker.isRunning();
  }

  /** Takes jobs: starts the worker, resumes it after `pause()`, or restarts a loop that stopped. */
  take(): void {
    const { worker } = this.deps;
    if (worker.closing !== undefined) return;
    if (!this.#started) {
      this.#started = true;
      this.deps.start();
      return;
    }
    // resume() runs the loop again when it has exited, and only un-pauses it when it has not.
    if (worker.isPaused() || !worker.isRunning()) worker.resume();
  }

  /**
   * Stops fetching new jobs; jobs in progress finish. Resolves once the run loop has stopped, or
   * after `settleMs` when jobs in progress keep it going (they are not waited for).
   */
  async pause(settleMs = 5_000): Promise<void> {
    const { worker } = this.deps;
    if (!this.#started || worker.isPaused() || worker.closing !== undefined) return;
    await worker.pause(true);
    // BullMQ's pause does not interrupt a fetch blocked on the queue's marker (BZPOPMIN, up to
    // 5 s), and that fetch takes the next job to arrive, paused or not. A marker — what BullMQ adds
    // with every job — wakes it now: it finds the queue empty and the loop stops. Never awaited
    // without a bound: Redis may be down too.
    void this.deps.wake().catch(() => undefined);
    const deadline = Date.now() + settleMs;
    while (worker.isRunning() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
