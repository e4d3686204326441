// From measurements to the tables the runner prints (markdown) and saves (JSON).
import type { BenchConfig } from './configs.ts';
import type { MeasurementResult } from './protocol.ts';
import { pairedRatios, spread, type Spread } from './stats.ts';

/** `backgroundBusy`: how busy the machine was in the 0.5 s before the measurement started. */
export type Measurement =
  | { config: string; rep: number; ok: true; result: MeasurementResult; backgroundBusy: number | null }
  | { config: string; rep: number; ok: false; error: string; backgroundBusy: number | null };

export interface ThroughputRow {
  config: string;
  description: string;
  runs: number;
  jobsPerSecond: Spread;
  /** Same-rep ratios to gw: min / median / max. */
  ratioToGw: Spread;
  nodeCpuMsPer1k: number;
  /** Medians: the machine's busy share just before the measurement, and during its window. */
  backgroundBusy: number;
  machineBusy: number;
  enqueuePerSecond: number;
}

export interface LatencyRow {
  config: string;
  description: string;
  runs: number;
  p50: Spread;
  p99: Spread;
  max: Spread;
  /** Same-rep p99 ratio to lat-gw. */
  p99RatioToGw: Spread;
}

export interface Goal {
  goal: string;
  target: string;
  measured: string;
  pass: boolean | null;
}

export interface Summary {
  throughput: ThroughputRow[];
  latency: LatencyRow[];
  goals: Goal[];
  failures: { config: string; rep: number; error: string }[];
}

function byRep(ms: readonly Measurement[], config: string, value: (r: MeasurementResult) => number | undefined): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of ms) {
    if (!m.ok || m.config !== config) continue;
    const v = value(m.result);
    if (v !== undefined) out.set(m.rep, v);
  }
  return out;
}

const median = (values: Iterable<number>): number => spread([...values]).median;

export function summarize(configs: readonly BenchConfig[], ms: readonly Measurement[]): Summary {
  const jobsPerSecond = (c: string): Map<number, number> => byRep(ms, c, (r) => r.jobsPerSecond);
  const p99 = (c: string): Map<number, number> => byRep(ms, c, (r) => r.latencyMs?.p99);
  const gw = jobsPerSecond('gw');
  const latGw = p99('lat-gw');

  const throughput = configs.filter((c) => c.group !== 'latency').map((c): ThroughputRow => {
    const values = jobsPerSecond(c.name);
    return {
      config: c.name,
      description: c.description,
      runs: values.size,
      jobsPerSecond: spread([...values.values()]),
      ratioToGw: spread(pairedRatios(values, gw)),
      nodeCpuMsPer1k: median(byRep(ms, c.name, (r) => r.nodeCpuMsPer1k).values()),
      backgroundBusy: median(ms.flatMap((m) => (m.config === c.name && m.backgroundBusy !== null ? [m.backgroundBusy] : []))),
      machineBusy: median(byRep(ms, c.name, (r) => r.machineBusy ?? undefined).values()),
      enqueuePerSecond: median(byRep(ms, c.name, (r) => r.enqueuePerSecond).values()),
    };
  });

  const latency = configs.filter((c) => c.group === 'latency').map((c): LatencyRow => {
    const p99s = p99(c.name);
    return {
      config: c.name,
      description: c.description,
      runs: p99s.size,
      p50: spread([...byRep(ms, c.name, (r) => r.latencyMs?.p50).values()]),
      p99: spread([...p99s.values()]),
      max: spread([...byRep(ms, c.name, (r) => r.latencyMs?.max).values()]),
      p99RatioToGw: spread(pairedRatios(p99s, latGw)),
    };
  });

  const ratio = (a: string, b: string): Spread => spread(pairedRatios(jobsPerSecond(a), jobsPerSecond(b)));
  const goals: Goal[] = [];
  const vsGwb = ratio('steward-pg', 'gwb');
  goals.push({ goal: 'steward-pg throughput vs gwb (same rep)', target: '≥ 1.00×', measured: fmtRatio(vsGwb), pass: okIf(vsGwb.median, (x) => x >= 1) });
  const p99Ratio = spread(pairedRatios(p99('lat-steward-pg'), latGw));
  goals.push({ goal: 'steward-pg p99 enqueue→execute vs gw (same rep)', target: '≤ 1.00×', measured: fmtRatio(p99Ratio), pass: okIf(p99Ratio.median, (x) => x <= 1) });
  for (const c of ['serial-steward-1p', 'serial-steward-2p', 'serial-steward-1p-clustered']) {
    const s = spread([...jobsPerSecond(c).values()]);
    goals.push({ goal: `${c}: 50 tenants, limit 1 each`, target: '≥ 1,000 envelopes/s', measured: `${fmtInt(s.median)}/s (${fmtInt(s.min)}–${fmtInt(s.max)})`, pass: okIf(s.median, (x) => x >= 1000) });
  }
  const lite = ratio('steward-pglite', 'steward-pg');
  goals.push({ goal: 'steward-pglite vs steward-pg (same rep)', target: '≥ 0.25×', measured: fmtRatio(lite), pass: okIf(lite.median, (x) => x >= 0.25) });

  const failures = ms.flatMap((m) => (m.ok ? [] : [{ config: m.config, rep: m.rep, error: m.error }]));
  return { throughput, latency, goals, failures };
}

function okIf(x: number, test: (x: number) => boolean): boolean | null {
  return Number.isNaN(x) ? null : test(x);
}

export function fmtInt(x: number): string {
  return Number.isNaN(x) ? '—' : Math.round(x).toLocaleString('en-US');
}

function fmt(x: number, digits: number): string {
  return Number.isNaN(x) ? '—' : x.toFixed(digits);
}

function fmtRatio(s: Spread): string {
  return Number.isNaN(s.median) ? '—' : `${fmt(s.median, 2)}× (${fmt(s.min, 2)}–${fmt(s.max, 2)})`;
}

function fmtSpread(s: Spread, f: (x: number) => string, bold = true): string {
  const mid = bold ? `**${f(s.median)}**` : f(s.median);
  return `${f(s.min)} / ${mid} / ${f(s.max)}`;
}

export function renderMarkdown(summary: Summary, jobs: number, latencyJobs: number): string {
  const lines: string[] = [];
  lines.push(`### Drain ${fmtInt(jobs)} no-op jobs, concurrency 8`, '');
  lines.push('| config | jobs/s (min / median / max) | × gw (same-rep median, range) | Node CPU ms / 1k jobs | machine busy before → during | bulk enqueue jobs/s |');
  lines.push('|---|---|---|---|---|---|');
  for (const r of summary.throughput) {
    lines.push(`| ${r.config} | ${fmtSpread(r.jobsPerSecond, fmtInt)} | ${fmtRatio(r.ratioToGw)} | ${fmt(r.nodeCpuMsPer1k, 0)} | ${fmt(r.backgroundBusy, 2)} → ${fmt(r.machineBusy, 2)} | ${fmtInt(r.enqueuePerSecond)} |`);
  }
  lines.push('', `### Enqueue → execute latency, ${latencyJobs} single jobs one every 10 ms, 8 idle workers (ms, min / median / max over reps)`, '');
  lines.push('| config | p50 | p99 | max | p99 × gw (same rep) |');
  lines.push('|---|---|---|---|---|');
  for (const r of summary.latency) {
    const f = (x: number): string => fmt(x, 2);
    lines.push(`| ${r.config} | ${fmtSpread(r.p50, f)} | ${fmtSpread(r.p99, f)} | ${fmtSpread(r.max, f, false)} | ${fmtRatio(r.p99RatioToGw)} |`);
  }
  lines.push('', '### Goals', '');
  lines.push('| goal | target | measured (median, range) | |');
  lines.push('|---|---|---|---|');
  for (const g of summary.goals) lines.push(`| ${g.goal} | ${g.target} | ${g.measured} | ${g.pass === null ? 'not run' : g.pass ? 'PASS' : 'FAIL'} |`);
  if (summary.failures.length > 0) {
    lines.push('', '### FAILED measurements', '');
    for (const f of summary.failures) lines.push(`- ${f.config} rep ${f.rep}: ${f.error.split('\n').slice(0, 6).join(' / ')}`);
  }
  return lines.join('\n');
}
