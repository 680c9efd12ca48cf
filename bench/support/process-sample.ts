import { readFile } from 'node:fs/promises';

/** Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ). */
const CLOCK_TICKS_PER_SECOND = 100;

/** Memory and CPU figures of a live process. */
export interface ProcessSample {
  /** VmHWM: peak resident set, MB. */
  peakRssMb: number;
  /** VmRSS now, MB. */
  rssMb: number;
  /** User + system CPU time so far, ms. */
  cpuMs: number;
}

/**
 * Memory and CPU figures of a live process, from /proc (Linux): the kernel's own account, so they
 * cover everything the process holds, not only the JavaScript heap.
 */
export async function sampleProcess(pid: number): Promise<ProcessSample> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  // Fields after the parenthesised command name: state is field 3, utime 14 and stime 15.
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(rest[11]) + Number(rest[12]);
  return {
    peakRssMb: kb('VmHWM') / 1024,
    rssMb: kb('VmRSS') / 1024,
    cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SECOND,
  };
}
