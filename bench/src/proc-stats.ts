// Another process's own CPU time and memory, read from Linux's /proc; undefined elsewhere (or
// once the process is gone).
import { readFileSync } from "node:fs";

/** USER_HZ, the unit of /proc CPU times; 100 on every mainstream Linux build. */
const TICKS_PER_SECOND = 100;

/** User + system CPU time a process has used so far, in ms, from /proc/<pid>/stat. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** A `Vm…` line of /proc/<pid>/status (e.g. "VmHWM", the peak resident set), in MB. */
export function processMemoryMb(
  pid: number | undefined,
  field: "VmHWM" | "VmRSS",
): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${String(pid)}/status`, "utf8");
    const kilobytes = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1];
    return kilobytes === undefined ? undefined : Number(kilobytes) / 1024;
  } catch {
    return undefined;
  }
}
