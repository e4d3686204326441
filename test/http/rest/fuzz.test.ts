import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { before, it } from 'node:test';
import { forEachApi, type TestApi } from '../../support/api.ts';
import type { TestDatabase } from '../../support/engines.ts';
import { A, arrangeFixture, B } from './fixture.ts';

// A fuzz test of the REST surface: many generated requests, each with at least one
// defect that must be refused (a bad filter, operator, select, order, limit, logic tree,
// header, token, JSON body, payload key or type, method, or a table / function / argument
// name that is unknown or injection-looking), mixed with noise that may or may not be
// valid (filters, Range, Prefer, Accept variants, valid rows in bodies). Every answer must
// be a 4xx with PostgREST's body, never a 5xx, and no table may have changed.
//
// The generator is a seeded PRNG: a failure prints the seed and the failing requests;
// STEWARD_FUZZ_SEED=<seed> replays the run, STEWARD_FUZZ_REQUESTS=<n> changes its size.

const SEED = Number(process.env.STEWARD_FUZZ_SEED ?? randomInt(2 ** 31));
const REQUESTS = Number(process.env.STEWARD_FUZZ_REQUESTS ?? 1200);
/** Beyond the server's 10 MiB body limit (413). */
const HUGE_BYTES = 10 * 1024 * 1024 + 1024;

/** mulberry32: small, fast and good enough to pick request parts. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface FuzzRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  /** Path below /rest/v1, already encoded. */
  path: string;
  query: [string, string][];
  /** Appended to the encoded query as is (malformed encodings). */
  rawQuery?: string;
  headers: Record<string, string>;
  body?: string;
  /** What must make this request fail (for the failure report). */
  defects: string[];
}

interface Credentials {
  service: string;
  tenantA: string;
  tenantB: string;
  anon: string;
}

const TABLES = ['objectives', 'tenants', 'connected_accounts', 'tool_catalog', 'evidence_embeddings', 'outbox', 'audit_log', 'guardrails'];
const TEXT_COLUMNS: Record<string, string[]> = {
  objectives: ['title', 'metric', 'target', 'summary'],
  tenants: ['name', 'plan'],
  connected_accounts: ['provider', 'status'],
  tool_catalog: ['tool_slug', 'display_name'],
  evidence_embeddings: ['content', 'source_type'],
};
/** Columns of a type no junk text converts to, on tables every role may at least try. */
const TYPED_COLUMNS = ['id', 'tenant_id', 'created_at'];
const WRONG_TYPED_VALUES = ['abc', 'not-a-uuid', "1' or '1'='1", '2024-13-45', '{"a":1}', '(1,2)', ';drop table objectives'];
const RPCS: Record<string, Record<string, unknown>> = {
  jwt_scopes: {},
  jwt_has_scopes: { required: ['a'] },
  current_tenant_id_uuid: {},
  approve_envelope: { p_envelope: '00000000-0000-4000-8000-000000000000', p_reason: 'fuzz' },
  evidence_tsquery: { p_query: 'renewal' },
  search_evidence_keyword: { p_query: 'renewal', p_match_count: 3 },
};
const RPC_ARGS = new Set(Object.values(RPCS).flatMap((args) => Object.keys(args)));
const JUNK_CHARS = ['a', 'z', '_', '(', ')', ',', '.', ':', '!', '"', "'", '\\', '-', '>', '*', ' ', ';', '{', '}', '[', ']', '%', '=', '&', '/', '0', '9', 'é', '\u0000', '\n', '$', '#'];
const INJECTION_NAMES = [
  'objectives;drop table objectives', 'objectives"--', '"objectives"', 'objectives where 1=1', 'objectives)', '(select 1)',
  'objectives/**/', 'objectives--', 'steward.jobs', 'pg_catalog.pg_authid', "objectives' or '1'='1", 'objectives\u0000', 'a'.repeat(80), '1objectives', 'obj ectives', 'objectives\t',
];
const INJECTION_FUNCTIONS = [
  'approve_envelope(uuid);drop table objectives', 'pg_sleep(1)', 'steward.claim_envelopes', 'jwt_scopes"--', 'jwt_scopes;', 'jwt_scopes()', 'jwt scopes', "jwt_scopes'--", 'jwt_scopes/*', '$1', 'f'.repeat(70),
];

class Generator {
  readonly #rnd: () => number;
  readonly #creds: Credentials;

  constructor(seed: number, creds: Credentials) {
    this.#rnd = prng(seed);
    this.#creds = creds;
  }

  int(n: number): number {
    return Math.floor(this.#rnd() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  chance(p: number): boolean {
    return this.#rnd() < p;
  }

  junk(max = 12): string {
    return Array.from({ length: 1 + this.int(max) }, () => this.pick(JUNK_CHARS)).join('');
  }

  request(): FuzzRequest {
    const rpc = this.chance(0.25);
    const req = rpc ? this.#rpcBase() : this.#tableBase();
    this.#noise(req, rpc);
    const defects = 1 + (this.chance(0.3) ? this.int(3) : 0);
    for (let i = 0; i < defects; i++) {
      if (rpc) this.#rpcDefect(req);
      else this.#tableDefect(req);
    }
    return req;
  }

  #auth(): Record<string, string> {
    const key = this.pick([this.#creds.service, this.#creds.tenantA, this.#creds.tenantA, this.#creds.tenantB, this.#creds.anon]);
    return this.chance(0.5) ? { apikey: key } : { apikey: this.#creds.anon, Authorization: `Bearer ${key}` };
  }

  /** A request that may well be valid on its own: the defects make it invalid. */
  #tableBase(): FuzzRequest {
    const method = this.pick(['GET', 'GET', 'HEAD', 'POST', 'POST', 'PATCH', 'DELETE'] as const);
    const table = this.pick(TABLES);
    const req: FuzzRequest = { method, path: `/${table}`, query: [], headers: this.#auth(), defects: [] };
    if (method === 'POST' || method === 'PATCH') {
      req.headers['Content-Type'] = 'application/json';
      const row = { tenant_id: this.pick([A, B]), title: `fuzz ${this.int(1000)}`, metric: 'fuzz', name: 'fuzz' };
      req.body = JSON.stringify(method === 'POST' && this.chance(0.3) ? [row, { ...row, title: 'fuzz 2' }] : row);
    }
    if (method !== 'POST' && this.chance(0.7)) {
      const col = this.pick(TEXT_COLUMNS[table] ?? ['id']);
      req.query.push([col, this.pick([`eq.${this.junk()}`, 'is.null', `like.*${this.int(9)}*`, 'not.is.null', `in.(a,"b,c")`])]);
    }
    return req;
  }

  #rpcBase(): FuzzRequest {
    const fn = this.pick(Object.keys(RPCS));
    const method = this.pick(['GET', 'POST', 'POST', 'HEAD'] as const);
    const req: FuzzRequest = { method, path: `/rpc/${fn}`, query: [], headers: this.#auth(), defects: [] };
    const args = RPCS[fn]!;
    if (method === 'POST') {
      req.headers['Content-Type'] = 'application/json';
      req.body = JSON.stringify(args);
    } else {
      for (const [k, v] of Object.entries(args)) req.query.push([k, Array.isArray(v) ? `{${v.join(',')}}` : String(v)]);
    }
    return req;
  }

  /** Parts that may or may not be valid; never relied upon to fail. */
  #noise(req: FuzzRequest, rpc: boolean): void {
    if (this.chance(0.3)) req.headers.Prefer = this.pick(['return=representation', 'return=minimal', 'count=exact', 'tx=rollback', 'resolution=merge-duplicates', 'resolution=ignore-duplicates,return=representation', 'missing=default', 'count=bogus', `${this.junk()}`.replace(/[^\x20-\x7e]/g, '') || 'x', 'return=representation, count=planned']);
    if (this.chance(0.2)) req.headers.Range = this.pick(['0-1', '5-2', 'x', '0-', '10-20', '-5', '99999999999999999999-1', 'items=0-1']);
    if (this.chance(0.2)) req.headers.Accept = this.pick(['application/json', '*/*', 'application/vnd.pgrst.object+json', 'application/json;nulls=stripped', 'application/*, text/csv']);
    if (!rpc && this.chance(0.2)) req.query.push(['select', this.pick(['*', 'id', 'id,created_at', 'x:id', 'id::text'])]);
    if (this.chance(0.15)) req.query.push(['order', this.pick(['id.desc', 'created_at.asc.nullsfirst', 'id'])]);
    if (req.method === 'GET' && this.chance(0.15)) req.query.push([this.pick(['limit', 'offset']), String(this.int(50))]);
  }

  #tableDefect(req: FuzzRequest): void {
    const table = req.path.slice(1);
    const writes = req.method === 'POST' || req.method === 'PATCH';
    const kinds = ['table', 'filter', 'operator', 'wrongType', 'select', 'order', 'limit', 'logic', 'accept', 'profile', 'token', 'rawQuery', 'method', 'embed'];
    if (writes) kinds.push('body', 'body', 'payloadKey', 'payloadType', 'contentType', 'columns', 'onConflict', 'huge');
    if (req.method === 'PATCH' || req.method === 'DELETE') kinds.push('writeLimit');
    const kind = this.pick(kinds);
    req.defects.push(kind);
    switch (kind) {
      case 'table':
        req.path = `/${encodeURIComponent(this.pick([...INJECTION_NAMES, 'nope', 'Objectives', 'objective', this.junk(), 'rpc_x']))}`;
        return;
      case 'filter':
        req.query.push([this.pick(['nope', 'secret_column', this.junk(), '"title" or 1=1 --', '1=1) or (1', 'title;drop table objectives', 'pg_catalog.pg_authid.rolpassword', 'id->>a->']), `eq.${this.junk()}`]);
        return;
      case 'operator':
        req.query.push([this.pick(['id', 'created_at', 'tenant_id']), this.pick(['bogus.1', 'eq', 'eq;drop table objectives.x', 'or 1=1', 'fts(english\');drop table objectives;--).x', 'like(some).x', 'not.not.eq.1', `${this.junk()}.${this.junk()}`, 'in.(a', 'is.maybe', 'eq(any).notalist', ''])]);
        return;
      case 'wrongType': {
        const op = this.pick(['eq', 'neq', 'gt', 'lt', 'gte', 'lte', 'in', 'isdistinct', 'not.eq']);
        const value = this.pick(WRONG_TYPED_VALUES);
        req.query.push([this.pick(TYPED_COLUMNS), `${op}.${op === 'in' ? `(${value})` : value}`]);
        return;
      }
      case 'select':
        req.query.push(['select', this.pick(['title,(select 1)', 'title;drop table objectives', 'title"--', '*,pg_sleep(1)', 'title)', 'title::text);drop table objectives;--', 'title::pg_sleep', 'nope', 'count()', 'id.sum()', '...tenants(*)', 'x(y(z(w(v(u)))))', `${this.junk()}(`, 'id,,', 'a:b:c', 'id::'])]);
        return;
      case 'embed':
        req.query.push(['select', this.pick(['*,nope(*)', '*,objectives!nope(*)', '*,tenants(nope)'])]);
        return;
      case 'order':
        req.query.push(['order', this.pick(['title;drop table objectives', 'title desc, (select 1)', 'id.asc.nullsfirst;--', 'id.desc)', '(select 1)', 'nope', 'id.up', 'id.asc.nullsmiddle', `${this.junk()}`, 'pg_sleep'])]);
        return;
      case 'limit':
        req.query.push([this.pick(['limit', 'offset']), this.pick(['-1', 'x', '1e3', '99999999999999999999', '1.5', '', ' 1', '0x10'])]);
        return;
      case 'logic':
        req.query.push([this.pick(['or', 'and', 'not.or']), this.pick(['(a.eq.1', '()', `(${this.junk()})`, '(id.eq.1,1=1)', '(id.eq.x);drop table objectives', 'id.eq.1', `(${'or('.repeat(40)}id.eq.1${')'.repeat(40)})`, '(nope.eq.1)', '(id.bogus.1)'])]);
        return;
      case 'accept':
        req.headers.Accept = this.pick(['text/csv', 'application/xml', 'text/html', 'application/geo+json', 'image/png', 'application/openapi+json']);
        return;
      case 'profile':
        req.headers[req.method === 'GET' || req.method === 'HEAD' ? 'Accept-Profile' : 'Content-Profile'] = this.pick(['steward', 'pg_catalog', 'auth', 'public;drop', 'extensions']);
        return;
      case 'token':
        req.headers.Authorization = `Bearer ${this.pick(['garbage', 'a.b.c', 'eyJhbGciOiJub25lIn0.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.', `${this.#creds.service.slice(0, -2)}xx`, 'sb_secret_nope'])}`;
        delete req.headers.apikey;
        return;
      case 'rawQuery':
        // Malformed percent-encodings, and more parameters than are taken (1,000).
        req.rawQuery = this.pick(['nope=eq.%zz', 'select=%', '%E0%A4%A=1', 'nope=eq.%00%FF', `${'nope=eq.1&'.repeat(1001)}`]);
        return;
      case 'method':
        req.method = 'PUT';
        return;
      case 'writeLimit':
        req.query.push([this.pick(['limit', 'offset']), String(1 + this.int(5))]);
        return;
      case 'body':
        req.body = this.pick(['{', '[', '{"title":', 'nul', '"str"', '1', 'true', '[1,2]', '[[]]', '{"a":1}{', `${'['.repeat(5000)}${']'.repeat(5000)}`, '\u0000', '{"title":"x",}', "{'title':'x'}"]);
        return;
      case 'payloadKey': {
        const key = this.pick(['nope', 'title; drop table objectives', '"title"', 'title)', '', '__proto__', this.junk()]);
        req.body = JSON.stringify(this.chance(0.5) ? { [key]: 'x', title: 'x' } : [{ title: 'x' }, { title: 'y', [key]: 1 }]);
        return;
      }
      case 'payloadType':
        req.body = JSON.stringify(this.pick([
          { tenant_id: 'not-a-uuid', title: 'x', metric: 'm', name: 'n' },
          { tenant_id: A, created_at: 'not a date', title: 'x', metric: 'm', name: 'n' },
          { tenant_id: A, id: 12, title: 'x', metric: 'm', name: 'n' },
          { tenant_id: A, id: { nested: true }, title: 'x', metric: 'm', name: 'n' },
          { tenant_id: [A], title: 'x', metric: 'm', name: 'n' },
          { tenant_id: A, created_at: '2024-13-45T99:99:99Z', title: 'x', metric: 'm', name: 'n' },
        ]));
        // A PATCH that matches no row need not convert its values: make it match every row.
        if (req.method === 'PATCH') req.query = req.query.filter(([k]) => !(TEXT_COLUMNS[table] ?? []).includes(k));
        return;
      case 'contentType':
        req.headers['Content-Type'] = this.pick(['text/plain', 'application/x-www-form-urlencoded', 'text/csv', 'application/xml']);
        req.body = req.body && req.body.trim() !== '' ? req.body : '{"title":"x"}';
        return;
      case 'columns':
        req.query.push(['columns', this.pick(['title);drop table objectives;--', 'nope', '"title","nope"', this.junk(), '', 'title,'])]);
        return;
      case 'onConflict':
        req.query.push(['on_conflict', this.pick(['id) do nothing; drop table objectives;--', 'id;', '(id)', '', 'id,', `${this.junk()},`])]);
        return;
      case 'huge':
        req.body = this.chance(0.5) ? JSON.stringify({ title: 'x'.repeat(HUGE_BYTES) }) : 'x'.repeat(HUGE_BYTES);
        return;
      default:
        throw new Error(`unknown defect ${kind}`);
    }
  }

  #rpcDefect(req: FuzzRequest): void {
    const post = req.method === 'POST';
    const kinds = ['name', 'unknownName', 'argName', 'accept', 'profile', 'token', 'select', 'method'];
    if (post) kinds.push('body', 'argType', 'contentType', 'huge');
    const kind = this.pick(kinds);
    req.defects.push(kind);
    const fn = decodeURIComponent(req.path.slice('/rpc/'.length));
    switch (kind) {
      case 'name':
        req.path = `/rpc/${encodeURIComponent(this.pick([...INJECTION_FUNCTIONS, `${fn};`, `${fn} `, `"${fn}"`, `${fn}--`]))}`;
        return;
      case 'unknownName':
        req.path = `/rpc/${encodeURIComponent(this.pick(['nope', 'pg_sleep', 'Jwt_scopes', 'claim_envelopes', 'version', `${fn}_x`]))}`;
        return;
      case 'argName': {
        const name = this.pick(['nope', 'p_envelope := null); drop table objectives; --', '"required"', 'required)', 'p_query;', this.junk()]);
        if (post) req.body = JSON.stringify({ ...objectOr(req.body), [name]: 1 });
        // A GET argument is a value without an operator's shape (one with it is a filter).
        else req.query.push([name, 'x']);
        return;
      }
      case 'select':
        req.query.push(['select', this.pick(['(select 1)', 'x;drop', 'nope', '*,pg_sleep(1)'])]);
        // A scalar function takes no select: force a function whose result has columns.
        req.path = '/rpc/search_evidence_keyword';
        if (post) req.body = JSON.stringify(RPCS.search_evidence_keyword);
        else req.query = [...Object.entries(RPCS.search_evidence_keyword!).map(([k, v]) => [k, String(v)] as [string, string]), ...req.query.filter(([k]) => !RPC_ARGS.has(k))];
        return;
      case 'accept':
        req.headers.Accept = this.pick(['text/csv', 'application/xml', 'text/html']);
        return;
      case 'profile':
        req.headers[post ? 'Content-Profile' : 'Accept-Profile'] = this.pick(['steward', 'pg_catalog', 'public;drop']);
        return;
      case 'token':
        req.headers.Authorization = `Bearer ${this.pick(['garbage', 'a.b.c', `${this.#creds.tenantA.slice(0, -2)}xx`])}`;
        delete req.headers.apikey;
        return;
      case 'method':
        req.method = this.pick(['PUT', 'PATCH', 'DELETE'] as const);
        return;
      case 'body':
        req.body = this.pick(['{', '[1,2]', '"str"', '{"required":', 'nul', '{"a":1}{', `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`]);
        return;
      case 'argType':
        req.path = '/rpc/jwt_has_scopes';
        req.body = JSON.stringify({ required: this.pick(['notarray', '{unclosed', 12, { a: 1 }, [[1, [2]], 'x']]) });
        return;
      case 'contentType':
        req.headers['Content-Type'] = this.pick(['text/plain', 'application/xml']);
        req.body = req.body && req.body.trim() !== '' ? req.body : '{}';
        return;
      case 'huge':
        req.body = JSON.stringify({ required: ['x'.repeat(HUGE_BYTES)] });
        return;
      default:
        throw new Error(`unknown defect ${kind}`);
    }
  }
}

/** The body as an object when it is one (an earlier defect may have broken it). */
function objectOr(body: string | undefined): object {
  try {
    const parsed = JSON.parse(body ?? '{}') as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

function urlOf(base: string, req: FuzzRequest): string {
  const encoded = req.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  if (req.rawQuery) encoded.push(req.rawQuery);
  return `${base}${req.path}${encoded.length > 0 ? `?${encoded.join('&')}` : ''}`;
}

function describeRequest(url: string, req: FuzzRequest): string {
  const body = req.body === undefined ? '' : ` body(${req.body.length}): ${JSON.stringify(req.body.slice(0, 200))}`;
  // Tokens shortened: the seed reproduces the request exactly.
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, v.length > 40 ? `${v.slice(0, 16)}…${v.slice(-8)}` : v]));
  return `${req.method} ${url.slice(0, 400)} headers: ${JSON.stringify(headers)}${body} defects: ${req.defects.join(', ')}`;
}

/** The rows of every table of the public and steward schemas, as one digest per table (read as the owner, past RLS). */
async function tableDigests(test: TestDatabase): Promise<Record<string, string>> {
  return test.owner.transaction(async (tx) => {
    const tables = await tx.query<{ name: string }>(
      `select format('%I.%I', n.nspname, c.relname) as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname in ('public', 'steward') and c.relkind in ('r', 'p') order by 1`);
    const digests: Record<string, string> = {};
    for (const { name } of tables.rows) {
      const res = await tx.query<{ n: string; digest: string }>(`select count(*)::text as n, md5(coalesce(string_agg(t::text, e'\\n' order by t::text), '')) as digest from ${name} t`);
      digests[name] = `${res.rows[0]!.n}:${res.rows[0]!.digest}`;
    }
    return digests;
  });
}

function checkAnswer(req: FuzzRequest, status: number, contentType: string | null, text: string): string | undefined {
  if (status < 400 || status >= 500) return `status ${status}: ${text.slice(0, 300)}`;
  if (req.method === 'HEAD') return undefined;
  if (!contentType?.startsWith('application/json')) return `status ${status} with Content-Type ${contentType}: ${text.slice(0, 300)}`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `status ${status}, body not JSON: ${text.slice(0, 300)}`;
  }
  const b = body as Record<string, unknown>;
  const shaped = typeof body === 'object' && body !== null && !Array.isArray(body)
    && Object.keys(b).sort().join() === 'code,details,hint,message'
    && typeof b.code === 'string' && typeof b.message === 'string'
    && (b.details === null || typeof b.details === 'string') && (b.hint === null || typeof b.hint === 'string');
  return shaped ? undefined : `status ${status}, body not PostgREST's: ${text.slice(0, 300)}`;
}

forEachApi('REST fuzz', (api: () => TestApi, engine) => {
  let creds: Credentials;
  before(async () => {
    creds = {
      service: api().keys.serviceRoleKey,
      anon: api().keys.anonKey,
      tenantA: await api().token({ role: 'authenticated', tenantId: A, scopes: ['a'] }),
      tenantB: await api().token({ role: 'authenticated', tenantId: B }),
    };
  });

  it(`answers ${REQUESTS} malformed requests with 4xx and PostgREST's body, changing nothing (seed ${SEED})`, async (t) => {
    t.diagnostic(`seed ${SEED} on ${engine}: replay with STEWARD_FUZZ_SEED=${SEED}`);
    const before = await tableDigests(api().test);
    const gen = new Generator(SEED, creds);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < REQUESTS; i++) {
      const req = gen.request();
      const url = urlOf(api().rest, req);
      let problem: string | undefined;
      try {
        const res = await fetch(url, { method: req.method, headers: req.headers, ...(req.body === undefined ? {} : { body: req.body }) });
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        problem = checkAnswer(req, res.status, res.headers.get('content-type'), text);
      } catch (error) {
        problem = `no answer: ${String(error)}`;
      }
      if (problem) failures.push(`#${i} ${describeRequest(url, req)}\n    → ${problem}`);
    }
    t.diagnostic(`statuses: ${[...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')}`);
    assert.deepEqual(failures.slice(0, 20), [], `seed ${SEED} (STEWARD_FUZZ_SEED=${SEED} to replay): ${failures.length} of ${REQUESTS} requests failed`);
    assert.deepEqual(await tableDigests(api().test), before, `seed ${SEED}: the database changed`);
  });
}, { arrange: arrangeFixture });
