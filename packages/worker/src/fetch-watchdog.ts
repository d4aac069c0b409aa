/** What a stall looked like when it was found. */
export interface StallInfo {
  /** Jobs ready to run (waiting or prioritized, not delayed) at the check that found it. */
  waiting: number;
  /** Ms since this worker last started a job (or began taking jobs, when later). */
  idleMs: number;
}

export interface FetchWatchdogOptions {
  /** How often the worker is checked, in ms. */
  intervalMs: number;
  /** How long jobs may wait while the worker has room and starts none, in ms, before it stalled. */
  stallAfterMs: number;
  /** Jobs ready to run in the queue; a rejection (Redis down) is never a stall. */
  waitingJobs: () => Promise<number>;
  /** True while every slot is taken (jobs in progress = concurrency): no fetch is expected. */
  busy: () => boolean;
  /** True while the worker is meant to fetch jobs (started, not paused on purpose, not closing). */
  takingJobs: () => boolean;
  /** Called once, at the first check that finds a stall; the watchdog stops after it. */
  onStall: (info: StallInfo) => void;
  /** The clock, in ms (tests pass a fake one); default Date.now. */
  now?: () => number;
}

/**
 * Notices a worker whose fetch loop stopped without a word: jobs waiting, room to run them, and
 * none started for `stallAfterMs`. BullMQ's loop can hang for good when its Redis client never
 * reconnects (ioredis Cluster.connect() that never settles after a long failover); nothing else
 * would tell, as the process stays up and its connection looks ready.
 *
 * The stall clock restarts at every job started and at every check that finds nothing to say
 * (nothing waiting, every slot busy, not taking jobs, or Redis not answering): only jobs left
 * waiting through `stallAfterMs` of checks count, never a job enqueued just before one check.
 * Checks never overlap; one that never answers (Redis unreachable) just delays the next, and one
 * answered later than `intervalMs` restarts the clock like a failed one.
 */
export class FetchWatchdog {
  readonly #options: FetchWatchdogOptions;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #checking = false;
  #fired = false;
  /** When a job last started, or the worker began taking jobs (whichever is later). */
  #lastActivity: number;
  /** The last moment the worker was known not to be stalled. */
  #clear: number;
  // Taking jobs from the start (or the construction) on, until a check finds otherwise.
  #wasTaking = true;

  constructor(options: FetchWatchdogOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#lastActivity = this.#now();
    this.#clear = this.#lastActivity;
  }

  /** Starts the periodic checks (an unref'd timer: it never keeps the process alive). */
  start(): void {
    if (this.#timer !== undefined || this.#fired) return;
    const now = this.#now();
    this.#lastActivity = now;
    this.#clear = now;
    this.#wasTaking = true;
    this.#timer = setInterval(() => void this.check(), this.#options.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Call whenever the worker starts a job. */
  jobStarted(): void {
    const now = this.#now();
    this.#lastActivity = now;
    this.#clear = now;
  }

  /** True once a stall was found (and onStall called). */
  get stalled(): boolean {
    return this.#fired;
  }

  /**
   * One check (the timer runs it every `intervalMs`; tests call it directly). Resolves true when
   * it found the stall. Never rejects.
   */
  async check(): Promise<boolean> {
    if (this.#fired || this.#checking) return false;
    const { takingJobs, busy, waitingJobs, stallAfterMs } = this.#options;
    const taking = takingJobs();
    if (!taking || busy()) {
      this.#wasTaking = taking;
      this.#clear = this.#now();
      return false;
    }
    if (!this.#wasTaking) {
      // Just began (or resumed) taking jobs: nothing was expected to start before now.
      this.#wasTaking = true;
      this.#lastActivity = Math.max(this.#lastActivity, this.#now());
      this.#clear = this.#now();
      return false;
    }
    this.#checking = true;
    const asked = this.#now();
    let waiting: number;
    try {
      waiting = await waitingJobs();
    } catch {
      // Redis down: its own outage log and readiness say so. The clock restarts once it answers,
      // leaving BullMQ the time to reconnect.
      this.#clear = this.#now();
      return false;
    } finally {
      this.#checking = false;
    }
    const now = this.#now();
    // A slow answer is an outage too: commands wait in the client's queue until Redis is back,
    // and BullMQ needs its own time to reconnect then. Conditions read before may have changed.
    const slow = now - asked > this.#options.intervalMs;
    if (slow || waiting <= 0 || !takingJobs() || busy()) {
      this.#clear = now;
      return false;
    }
    if (now - this.#clear < stallAfterMs) return false;
    this.#fired = true;
    this.stop();
    this.#options.onStall({ waiting, idleMs: now - this.#lastActivity });
    return true;
  }
}
