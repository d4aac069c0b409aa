// CPU time of this process, of the PostgreSQL and Redis processes and of the whole machine over a
// window, to tell which one limits throughput. Other processes' figures come from Linux's /proc;
// elsewhere only this process is reported.
import { readdir, readFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";

/** USER_HZ: the unit of /proc CPU times; 100 on every mainstream Linux build. */
const TICKS_PER_SECOND = 100;

interface MachineTicks {
  busy: number;
  iowait: number;
}

export interface CpuSnapshot {
  atMs: number;
  self: NodeJS.CpuUsage;
  machine: MachineTicks | undefined;
  /** CPU ticks (user + system) of every postgres and redis-server process, by pid. */
  services: Map<number, { comm: string; ticks: number }>;
}

async function machineTicks(): Promise<MachineTicks | undefined> {
  try {
    const line = (await readFile("/proc/stat", "utf8")).split("\n")[0] ?? "";
    // cpu user nice system idle iowait irq softirq … (guest time is already in user)
    const [user = 0, nice = 0, system = 0, , iowait = 0, irq = 0, softirq = 0] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return { busy: user + nice + system + irq + softirq, iowait };
  } catch {
    return undefined;
  }
}

async function serviceTicks(): Promise<Map<number, { comm: string; ticks: number }>> {
  const services = new Map<number, { comm: string; ticks: number }>();
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return services;
  }
  await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry))
      .map(async (entry) => {
        const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
        const open = stat.indexOf("(");
        const close = stat.lastIndexOf(")");
        const comm = stat.slice(open + 1, close);
        if (comm !== "postgres" && comm !== "redis-server") return;
        // After the command: state (field 3 of the line) … utime (14), stime (15).
        const fields = stat.slice(close + 2).split(" ");
        const ticks = Number(fields[11]) + Number(fields[12]);
        services.set(Number(entry), { comm, ticks });
      }),
  );
  return services;
}

export async function cpuSnapshot(): Promise<CpuSnapshot> {
  const [machine, services] = await Promise.all([machineTicks(), serviceTicks()]);
  return { atMs: performance.now(), self: process.cpuUsage(), machine, services };
}

/** CPU used over the window, in cores (CPU seconds per second): 1 is one core kept busy. */
export interface CpuShares {
  bench: number;
  /** The kernel's share of `bench`: mostly socket writes to PostgreSQL and Redis. */
  benchSystem: number;
  /** Undefined where /proc is not available. */
  postgres: number | undefined;
  redis: number | undefined;
  /** Every process on the machine, these included. */
  machineBusy: number | undefined;
  iowait: number | undefined;
}

/**
 * `postgresPids` restricts PostgreSQL to the backends of the database under test and the shared
 * background processes, so other databases' load on the same server is not counted. A backend
 * that started inside the window counts from zero; one that exited inside it is missed.
 */
export function cpuShares(
  start: CpuSnapshot,
  end: CpuSnapshot,
  postgresPids: ReadonlySet<number>,
): CpuShares {
  const wallSeconds = (end.atMs - start.atMs) / 1000;
  const cores = (ticks: number) => ticks / TICKS_PER_SECOND / wallSeconds;
  const service = (comm: string, pids?: ReadonlySet<number>) => {
    if (end.services.size === 0) return undefined;
    let ticks = 0;
    for (const [pid, now] of end.services) {
      if (now.comm !== comm || (pids !== undefined && !pids.has(pid))) continue;
      ticks += now.ticks - (start.services.get(pid)?.ticks ?? 0);
    }
    return cores(ticks);
  };
  const machine =
    start.machine === undefined || end.machine === undefined
      ? undefined
      : {
          busy: cores(end.machine.busy - start.machine.busy),
          iowait: cores(end.machine.iowait - start.machine.iowait),
        };
  return {
    bench:
      (end.self.user - start.self.user + end.self.system - start.self.system) /
      1_000_000 /
      wallSeconds,
    benchSystem: (end.self.system - start.self.system) / 1_000_000 / wallSeconds,
    postgres: service("postgres", postgresPids),
    redis: service("redis-server"),
    machineBusy: machine?.busy,
    iowait: machine?.iowait,
  };
}
