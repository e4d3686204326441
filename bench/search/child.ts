// The child side of a measurement: read the request in argv[2], run it, print one JSON
// line; exit 1 on any error (the runner shows the stderr tail).
import type { LatencySummary, MeasurementRequest, MeasurementResult } from './protocol.ts';
import { percentile } from '../outbox/stats.ts';

export function runChild<Req extends MeasurementRequest, Res extends MeasurementResult>(measure: (req: Req) => Promise<Res>): void {
  const raw = process.argv[2];
  if (!raw) {
    console.error('usage: node bench/search/<child>.ts <measurement request as JSON> (the runner passes it)');
    process.exit(2);
  }
  const req = JSON.parse(raw) as Req;
  measure(req).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
    },
    (error: unknown) => {
      console.error(`${req.config}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}

/** Progress on stderr (the runner prefixes it with the config's name). */
export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function latencySummary(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1),
  };
}
