import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in OpenTelemetry collector: a node:http server that accepts OTLP/HTTP JSON on
 * POST /v1/metrics (as the collector's receiver does) and keeps every export, flattened
 * into points that assertions can look up by metric name and attributes.
 */

export interface OtlpPoint {
  metric: string;
  kind: 'sum' | 'gauge' | 'histogram';
  unit: string;
  attributes: Record<string, string>;
  /** sum and gauge */
  value?: number;
  monotonic?: boolean;
  /** histogram */
  count?: number;
  sum?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
}

export interface OtlpExport {
  path: string;
  headers: IncomingHttpHeaders;
  resource: Record<string, string | number>;
  points: OtlpPoint[];
}

export interface FakeCollector {
  /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT would name it. */
  readonly url: string;
  readonly exports: OtlpExport[];
  /** Resolves with the first export (old or new) that satisfies `test`. */
  waitFor(test: (e: OtlpExport) => boolean, timeoutMs?: number): Promise<OtlpExport>;
  close(): Promise<void>;
}

/** `status`: what to answer (a collector refusing everything answers 400). */
export async function startCollector({ status = 200 }: { status?: number } = {}): Promise<FakeCollector> {
  const exports: OtlpExport[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        exports.push({ path: req.url ?? '', headers: req.headers, ...flatten(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportRequest) });
        res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '{}' : '{"code":3,"message":"refused by the test"}');
      } catch (error) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exports,
    async waitFor(test, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = exports.find(test);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching export in ${timeoutMs} ms; got ${exports.length}: ${JSON.stringify(exports.map((e) => e.points.map((p) => p.metric)))}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** The value of the one point of `metric` whose attributes are exactly `attributes`. */
export function pointOf(e: OtlpExport, metric: string, attributes: Record<string, string> = {}): OtlpPoint | undefined {
  const wanted = Object.entries(attributes);
  const found = e.points.filter((p) => p.metric === metric && Object.keys(p.attributes).length === wanted.length && wanted.every(([k, v]) => p.attributes[k] === v));
  if (found.length > 1) throw new Error(`${metric} ${JSON.stringify(attributes)} matches ${found.length} points`);
  return found[0];
}

export function valueOf(e: OtlpExport, metric: string, attributes: Record<string, string> = {}): number | undefined {
  return pointOf(e, metric, attributes)?.value;
}

// The OTLP JSON encoding (opentelemetry-proto's JSON mapping), as much as Steward sends.
interface AnyValue { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean }
interface KeyValue { key: string; value: AnyValue }
interface NumberPoint { attributes?: KeyValue[]; asDouble?: number; asInt?: string | number }
interface HistogramPoint { attributes?: KeyValue[]; count: string | number; sum?: number; bucketCounts: (string | number)[]; explicitBounds: number[] }
interface Metric {
  name: string;
  unit?: string;
  sum?: { dataPoints: NumberPoint[]; isMonotonic?: boolean };
  gauge?: { dataPoints: NumberPoint[] };
  histogram?: { dataPoints: HistogramPoint[] };
}
interface ExportRequest {
  resourceMetrics: { resource?: { attributes?: KeyValue[] }; scopeMetrics: { metrics: Metric[] }[] }[];
}

function attributesOf(kvs: KeyValue[] = []): Record<string, string> {
  return Object.fromEntries(kvs.map((kv) => [kv.key, String(kv.value.stringValue ?? kv.value.intValue ?? kv.value.doubleValue ?? kv.value.boolValue)]));
}

function flatten(body: ExportRequest): { resource: Record<string, string | number>; points: OtlpPoint[] } {
  const points: OtlpPoint[] = [];
  let resource: Record<string, string | number> = {};
  for (const rm of body.resourceMetrics) {
    resource = { ...resource, ...attributesOf(rm.resource?.attributes) };
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        const base = { metric: m.name, unit: m.unit ?? '' };
        const number = (p: NumberPoint) => Number(p.asDouble ?? p.asInt);
        for (const p of m.sum?.dataPoints ?? []) points.push({ ...base, kind: 'sum', attributes: attributesOf(p.attributes), value: number(p), monotonic: m.sum?.isMonotonic ?? false });
        for (const p of m.gauge?.dataPoints ?? []) points.push({ ...base, kind: 'gauge', attributes: attributesOf(p.attributes), value: number(p) });
        for (const p of m.histogram?.dataPoints ?? []) {
          points.push({
            ...base, kind: 'histogram', attributes: attributesOf(p.attributes),
            count: Number(p.count), ...(p.sum === undefined ? {} : { sum: p.sum }), bucketCounts: p.bucketCounts.map(Number), explicitBounds: p.explicitBounds,
          });
        }
      }
    }
  }
  return { resource, points };
}
