// Whole-machine CPU counters from /proc/stat (Linux), to tell how busy the machine was
// during a measurement, and before it (other people's processes share these cores).
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface MachineTicks {
  busy: number;
  total: number;
}

/** The aggregate CPU line of /proc/stat; null where there is none. */
export function machineTicks(): MachineTicks | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    const total = ticks.reduce((a, b) => a + b, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** The share of CPU time not idle between two samples; null when unknown. */
export function busyBetween(a: MachineTicks | null, b: MachineTicks | null): number | null {
  return a && b && b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : null;
}

/** How busy the machine is over the next `ms`. */
export async function sampleBusy(ms: number): Promise<number | null> {
  const a = machineTicks();
  await sleep(ms);
  return busyBetween(a, machineTicks());
}

/**
 * The machine's busy share over 0.5 s; with `waitSeconds`, sampled again until it is
 * below 25% or the time is up. Returns the last sample.
 */
export async function untilIdle(waitSeconds: number): Promise<number | null> {
  const deadline = performance.now() + waitSeconds * 1000;
  for (;;) {
    const busy = await sampleBusy(500);
    if (busy === null || busy < 0.25 || performance.now() >= deadline) return busy;
  }
}
