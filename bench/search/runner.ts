// bench/search: Steward's evidence search (semantic, keyword, hybrid) on 100k synthetic
// evidence rows × 384-d shared by 20 tenants: recall@10 against exact search and
// latency, as a tenant calls the SQL functions, next to plain pgvector (exact, and HNSW
// without Steward's safeguards) in the same run, on PostgreSQL and on PGlite; and the
// embedders' throughput. README.md here has the method. Every measurement is a fresh Node
// process on a freshly created database (PostgreSQL) or data directory (PGlite).
//
//   npm run bench:search -- [--rows 100000] [--tenants 20] [--queries 200] [--only pg,embed]
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseUrl, dropDatabase, recreateDatabase, redact, serverInfo } from '../outbox/admin.ts';
import { untilIdle } from '../outbox/machine.ts';
import { runChild } from '../outbox/run-child.ts';
import { CONFIGS, requestFor, selectConfigs, type BenchConfig } from './configs.ts';
import { USAGE, parseOptions, type BenchOptions } from './options.ts';
import type { MeasurementRequest, MeasurementResult } from './protocol.ts';
import { goals, renderMarkdown, type Measurement } from './report.ts';
import { METHODS, selectMethods } from './search-methods.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

async function main(): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseOptions(process.argv.slice(2));
    selectMethods(opts.methods);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  if (opts.list) {
    for (const c of CONFIGS) console.log(`${c.name.padEnd(16)} ${c.group.padEnd(7)} ${c.description}`);
    console.log('\nsearch methods (--methods):');
    for (const m of METHODS) console.log(`${m.name.padEnd(20)} ${m.description}`);
    return 0;
  }
  let configs: BenchConfig[];
  try {
    configs = selectConfigs(opts.only);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
  const usesPostgres = configs.some((c) => c.postgres);
  const benchUrl = databaseUrl(opts.adminUrl, opts.database);
  const server = usesPostgres ? await serverInfo(opts.adminUrl) : undefined;
  const startedAt = new Date();
  const command = `node bench/search/runner.ts ${process.argv.slice(2).join(' ')}`.trim();
  const resultsFile = join(HERE, 'results', `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  await mkdir(dirname(resultsFile), { recursive: true });

  log(`# bench/search  ${startedAt.toISOString()}`);
  log(`command: ${command}`);
  if (server) {
    log(`server: ${server.version.split(' on ')[0]}  ${Object.entries(server.settings).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    log(`bench database: ${redact(benchUrl)} (dropped and created again before the measurement, dropped at the end)`);
  }
  log(`node ${process.version}, ${cpus().length} CPUs, ${Math.round(totalmem() / 2 ** 30)} GiB, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  log(`${configs.length} configs: ${configs.map((c) => c.name).join(', ')}\n`);

  const measurements: Measurement[] = [];
  const save = async (finishedAt?: Date): Promise<void> => {
    await writeFile(resultsFile, `${JSON.stringify({
      startedAt, finishedAt, command, options: { ...opts, adminUrl: redact(opts.adminUrl) },
      server, host: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: totalmem() / 2 ** 30 },
      configs, measurements, goals: goals(measurements),
    }, null, 2)}\n`);
  };

  try {
    for (const config of configs) {
      const request = requestFor(config, opts, benchUrl);
      let backgroundBusy: number | null = null;
      const t0 = performance.now();
      try {
        if (config.postgres) await recreateDatabase(opts.adminUrl, opts.database);
        backgroundBusy = await untilIdle(opts.waitIdle);
        log(`${config.name}: started (machine busy before: ${backgroundBusy === null ? '?' : backgroundBusy.toFixed(2)})`);
        const result = await measure(config, request);
        measurements.push({ config: config.name, ok: true, result, backgroundBusy });
        log(`${config.name}: done in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        measurements.push({ config: config.name, ok: false, error: message, backgroundBusy });
        log(`!! ${config.name} FAILED:\n${message}\n`);
      } finally {
        if (config.postgres) await dropDatabase(opts.adminUrl, opts.database).catch(() => undefined);
      }
      await save();
    }
  } finally {
    if (usesPostgres) await dropDatabase(opts.adminUrl, opts.database).catch(() => undefined);
  }
  await save(new Date());

  console.log(`\n## bench/search ${startedAt.toISOString()}: ${command}\n`);
  const settings = server ? `${server.version.split(' on ')[0]}; ${Object.entries(server.settings).map(([k, v]) => `${k}=${v}`).join(', ')}; ` : '';
  console.log(`${settings}node ${process.version}; ${cpus().length} CPUs\n`);
  console.log(renderMarkdown(measurements));
  console.log(`\nraw results: ${resultsFile}`);
  const failed = measurements.filter((m) => !m.ok).length;
  if (failed > 0) {
    console.error(`\n!! ${failed} measurement(s) FAILED (see above); the tables leave them out.`);
    return 1;
  }
  return 0;
}

/** Runs one measurement in a fresh Node process; its stdout's last line is the result. */
function measure(config: BenchConfig, request: MeasurementRequest): Promise<MeasurementResult> {
  // Generous: a PGlite load and HNSW build at 100k rows takes minutes.
  return runChild<MeasurementResult>(join(HERE, config.script), request, config.name, 3 * 3_600_000);
}


function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

process.exitCode = await main();
