import { readFileSync } from 'node:fs';

/**
 * CPU time (ms) the calling thread has used, from /proc/thread-self/stat (Linux; 10 ms ticks), or
 * undefined elsewhere. Unlike wall time, it hardly moves when other processes share the cores.
 */
export function threadCpuMs(): number | undefined {
  try {
    const fields = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}
