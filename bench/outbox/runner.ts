// bench/outbox: Steward's outbox worker against graphile-worker and pg-boss on the same
// PostgreSQL in the same run (method: ../../../shared/reference/queue-anchors.md §4, and
// README.md here). Every measurement is a fresh Node process on a freshly created
// database; the repetitions interleave all configs, and ratios are taken within a rep.
//
//   npm run bench:outbox -- [--reps 3] [--jobs 20000] [--only gw,steward-pg] [--steward-batch 4,20]
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseUrl, dropDatabase, recreateDatabase, redact, serverInfo } from './admin.ts';
import { allConfigs, selectConfigs, type BenchConfig } from './configs.ts';
import { untilIdle } from './machine.ts';
import { runChild } from './run-child.ts';
import { USAGE, parseOptions, type BenchOptions } from './options.ts';
import type { MeasurementRequest, MeasurementResult } from './protocol.ts';
import { fmtInt, renderMarkdown, summarize, type Measurement } from './report.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

// The same for every system (queue-anchors.md §4).
const CONCURRENCY = 8;
const POOL_SIZE = 10;
const ADD_BATCH = 1000;
const TENANTS = 50;
const LATENCY_INTERVAL_MS = 10;
const LATENCY_IDLE_MS = 1000;

async function main(): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  const catalogue = allConfigs(opts.stewardBatch);
  if (opts.list) {
    for (const c of catalogue) console.log(`${c.name.padEnd(28)} ${c.group.padEnd(11)} ${c.description}`);
    return 0;
  }
  const configs = selectConfigs(catalogue, opts.only);
  const benchUrl = databaseUrl(opts.adminUrl, opts.database);
  const server = await serverInfo(opts.adminUrl);
  const startedAt = new Date();
  const command = `node bench/outbox/runner.ts ${process.argv.slice(2).join(' ')}`.trim();
  const resultsFile = join(HERE, 'results', `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  await mkdir(dirname(resultsFile), { recursive: true });

  log(`# bench/outbox  ${startedAt.toISOString()}`);
  log(`command: ${command}`);
  log(`server: ${server.version.split(' on ')[0]}  ${Object.entries(server.settings).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  log(`bench database: ${redact(benchUrl)} (dropped and created again before each measurement)`);
  log(`node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  log(`${opts.reps} reps × ${configs.length} configs: ${configs.map((c) => c.name).join(', ')}\n`);

  const measurements: Measurement[] = [];
  const save = async (finishedAt?: Date): Promise<void> => {
    const summary = summarize(configs, measurements);
    await writeFile(resultsFile, `${JSON.stringify({
      startedAt, finishedAt, command, options: { ...opts, adminUrl: redact(opts.adminUrl) },
      constants: { concurrency: CONCURRENCY, poolSize: POOL_SIZE, addBatch: ADD_BATCH, tenants: TENANTS, latencyIntervalMs: LATENCY_INTERVAL_MS, latencyIdleMs: LATENCY_IDLE_MS },
      server, host: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model },
      configs, measurements, summary,
    }, null, 2)}\n`);
  };

  try {
    for (let rep = 1; rep <= opts.reps; rep++) {
      for (const config of configs) {
        const request = requestFor(config, rep, opts, benchUrl);
        let backgroundBusy: number | null = null;
        try {
          if (config.postgres) await recreateDatabase(opts.adminUrl, opts.database);
          backgroundBusy = await untilIdle(opts.waitIdle);
          const result = await measure(config, request);
          measurements.push({ config: config.name, rep, ok: true, result, backgroundBusy });
          log(progressLine(rep, opts.reps, result, backgroundBusy));
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          measurements.push({ config: config.name, rep, ok: false, error: message, backgroundBusy });
          log(`!! [rep ${rep}/${opts.reps}] ${config.name} FAILED:\n${message}`);
        }
        await save();
      }
    }
  } finally {
    await dropDatabase(opts.adminUrl, opts.database).catch(() => undefined);
  }
  await save(new Date());

  const summary = summarize(configs, measurements);
  console.log(`\n## bench/outbox ${startedAt.toISOString()}: ${command}\n`);
  console.log(`${server.version.split(' on ')[0]}; ${Object.entries(server.settings).map(([k, v]) => `${k}=${v}`).join(', ')}; node ${process.version}; ${cpus().length} CPUs\n`);
  console.log(renderMarkdown(summary, opts.jobs, opts.latencyJobs));
  console.log(`\nraw results: ${resultsFile}`);
  if (summary.failures.length > 0) {
    console.error(`\n!! ${summary.failures.length} measurement(s) FAILED (see above); the tables leave them out.`);
    return 1;
  }
  return 0;
}

function requestFor(config: BenchConfig, rep: number, opts: BenchOptions, benchUrl: string): MeasurementRequest {
  const jobs = config.group === 'latency' ? opts.latencyJobs : opts.jobs;
  return {
    config: config.name,
    system: config.system,
    rep,
    jobs,
    concurrency: CONCURRENCY,
    poolSize: POOL_SIZE,
    addBatch: ADD_BATCH,
    tenants: TENANTS,
    ...(config.postgres ? { url: benchUrl } : {}),
    intervalMs: LATENCY_INTERVAL_MS,
    idleMs: LATENCY_IDLE_MS,
    // Generous: 60 s plus 10 ms a job (20k jobs: 260 s, i.e. below 77 jobs/s is a failure).
    timeoutMs: 60_000 + jobs * 10,
    ...config.request,
  };
}

/** Runs one measurement in a fresh Node process; its stdout's last line is the result. */
function measure(config: BenchConfig, request: MeasurementRequest): Promise<MeasurementResult> {
  return runChild<MeasurementResult>(join(HERE, config.script), request, config.name, request.timeoutMs * 2 + 120_000);
}


function progressLine(rep: number, reps: number, r: MeasurementResult, backgroundBusy: number | null): string {
  const head = `[rep ${rep}/${reps}] ${r.config.padEnd(27)}`;
  const busy = `  busy ${backgroundBusy === null ? '?' : backgroundBusy.toFixed(2)} → ${r.machineBusy === null ? '?' : r.machineBusy.toFixed(2)}`;
    if (r.latencyMs) {
    const l = r.latencyMs;
    return `${head} latency p50 ${l.p50.toFixed(2)} ms  p99 ${l.p99.toFixed(2)} ms  max ${l.max.toFixed(2)} ms  (n ${l.n})${busy}`;
  }
  const checks = r.checks ? `  checks ok (max in flight/tenant ${String(r.checks.maxInFlightPerTenant)})` : '';
  return `${head} ${fmtInt(r.jobsPerSecond).padStart(7)} jobs/s  (${r.jobs} in ${r.seconds.toFixed(2)} s; enqueue ${fmtInt(r.enqueuePerSecond)}/s)  cpu ${r.nodeCpuMsPer1k.toFixed(0)} ms/1k${busy}${checks}`;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

process.exitCode = await main();
