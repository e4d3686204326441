import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../../src/http/api-error.ts';
import { parseTtl } from '../../../src/cli/commands/tokens.ts';
import { statusOfSqlState } from '../../../src/http/rest/errors.ts';
import { negotiate, parsePrefer, parseRange } from '../../../src/http/rest/parse-headers.ts';
import { parseFilterValue, parseLogicTree } from '../../../src/http/rest/parse-filter.ts';
import { parseOrder } from '../../../src/http/rest/parse-order.ts';
import { parseSelect } from '../../../src/http/rest/parse-select.ts';
import { parseFilterKey, parseQueryParams } from '../../../src/http/rest/query-params.ts';
import { contentRange, unwrapSingle } from '../../../src/http/rest/respond.ts';

// The query-string and header grammar on its own (PostgREST's QueryParams.hs), no database.

const field = (column: string) => ({ column, jsonPath: [] });

function parseError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ApiError, String(error));
    return error;
  }
  assert.fail('expected a parse error');
}

describe('parseSelect', () => {
  it('columns, aliases, casts, JSON paths, embeds with hints and !inner', () => {
    assert.deepEqual(parseSelect('*,n:name,created_at::text,data->a->>0,owner:users!fk_owner!inner(id,"odd, name")'), [
      { kind: 'star' },
      { kind: 'field', field: field('name'), alias: 'n' },
      { kind: 'field', field: field('created_at'), cast: 'text' },
      { kind: 'field', field: { column: 'data', jsonPath: [{ arrow: '->', key: 'a' }, { arrow: '->>', key: 0 }] } },
      { kind: 'embed', relation: 'users', alias: 'owner', hint: 'fk_owner', inner: true, items: [{ kind: 'field', field: field('id') }, { kind: 'field', field: field('odd, name') }] },
    ]);
    assert.deepEqual(parseSelect('first-name'), [{ kind: 'field', field: field('first-name') }]);
    assert.deepEqual(parseSelect(''), []);
  });

  it('refuses what it cannot parse with PGRST100 naming the column, and aggregates with PGRST123', () => {
    const e = parseError(() => parseSelect('id,na;me'));
    assert.deepEqual([e.status, e.code, e.message, e.details], [400, 'PGRST100', '"failed to parse select parameter (id,na;me)" (line 1, column 6)', 'unexpected ";" expecting "," or end of input']);
    assert.equal(parseError(() => parseSelect('rel(id')).code, 'PGRST100');
    assert.equal(parseError(() => parseSelect('count()')).code, 'PGRST123');
    assert.equal(parseError(() => parseSelect('amount.sum()')).code, 'PGRST123');
    assert.equal(parseError(() => parseSelect('a(b(c(d(e(id)))))')).code, 'PGRST100');
  });
});

describe('filters and logic trees', () => {
  it('operators, not, quantifiers, in lists with quoting, is values, fts configs', () => {
    assert.deepEqual(parseFilterValue(field('a'), 'not.eq.x.y'), { field: field('a'), negated: true, operation: { kind: 'compare', operator: 'eq', value: 'x.y' } });
    assert.deepEqual(parseFilterValue(field('a'), 'like(any).{a*,b*}').operation, { kind: 'compare', operator: 'like', value: '{a*,b*}', quantifier: 'any' });
    assert.deepEqual(parseFilterValue(field('a'), 'in.(1,"a,b",")x(",)').operation, { kind: 'in', values: ['1', 'a,b', ')x(', ''] });
    assert.deepEqual(parseFilterValue(field('a'), 'is.NULL').operation, { kind: 'is', value: 'null' });
    assert.deepEqual(parseFilterValue(field('a'), 'wfts(english).the cat').operation, { kind: 'fts', operator: 'wfts', config: 'english', value: 'the cat' });
    assert.equal(parseError(() => parseFilterValue(field('a'), 'is.maybe')).code, 'PGRST100');
    assert.equal(parseError(() => parseFilterValue(field('a'), 'equals.1')).code, 'PGRST100');
    assert.equal(parseError(() => parseFilterValue(field('a'), 'eq')).code, 'PGRST100');
    assert.equal(parseError(() => parseFilterValue(field('a'), 'in.(1,2')).code, 'PGRST100');
  });

  it('nested and/or with not, quoted values and arrays', () => {
    assert.deepEqual(parseLogicTree('or', false, '(a.eq.1,not.and(b.gt.2,c.cs.{x,y}),d.eq."p,q")'), {
      kind: 'group', negated: false, operator: 'or', children: [
        { kind: 'condition', condition: { field: field('a'), negated: false, operation: { kind: 'compare', operator: 'eq', value: '1' } } },
        { kind: 'group', negated: true, operator: 'and', children: [
          { kind: 'condition', condition: { field: field('b'), negated: false, operation: { kind: 'compare', operator: 'gt', value: '2' } } },
          { kind: 'condition', condition: { field: field('c'), negated: false, operation: { kind: 'compare', operator: 'cs', value: '{x,y}' } } },
        ] },
        { kind: 'condition', condition: { field: field('d'), negated: false, operation: { kind: 'compare', operator: 'eq', value: 'p,q' } } },
      ],
    });
    assert.equal(parseError(() => parseLogicTree('or', false, '(a.eq.1')).code, 'PGRST100');
    assert.equal(parseError(() => parseLogicTree('or', false, '()')).code, 'PGRST100');
    assert.equal(parseError(() => parseLogicTree('or', false, `${'and('.repeat(12)}a.eq.1${')'.repeat(12)}`.replace(/^and/, ''))).code, 'PGRST100');
  });

  it('keys: embed paths and JSON paths', () => {
    assert.deepEqual(parseFilterKey('rel.sub.col->>k'), { path: ['rel', 'sub'], field: { column: 'col', jsonPath: [{ arrow: '->>', key: 'k' }] } });
    assert.equal(parseError(() => parseFilterKey('col;x')).code, 'PGRST100');
  });
});

describe('parseOrder and parseQueryParams', () => {
  it('directions and nulls per term', () => {
    assert.deepEqual(parseOrder('a.desc.nullslast,b,c.nullsfirst'), [
      { field: field('a'), direction: 'desc', nulls: 'last' }, { field: field('b') }, { field: field('c'), nulls: 'first' },
    ]);
    assert.equal(parseError(() => parseOrder('a.sideways')).code, 'PGRST100');
    assert.equal(parseError(() => parseOrder('rel(a).asc')).code, 'PGRST127');
  });

  it('sorts parameters into select, filters, order, limits (per embed path) and rpc arguments', () => {
    const p = parseQueryParams('select=a,rel(b)&a=eq.1&a=lt.5&rel.order=b.desc&rel.limit=2&offset=3&not.or=(a.eq.1,a.eq.2)&rel.b=is.null&columns="a","b"&on_conflict=a');
    assert.equal(p.filters.length, 4);
    assert.deepEqual(p.filters.map((f) => f.path), [[], [], [], ['rel']]);
    assert.deepEqual(p.order, [{ path: ['rel'], value: [{ field: field('b'), direction: 'desc' }] }]);
    assert.deepEqual([p.limits, p.offsets], [[{ path: ['rel'], value: 2 }], [{ path: [], value: 3 }]]);
    assert.deepEqual([p.columns, p.onConflict], [['a', 'b'], ['a']]);
    assert.deepEqual(parseQueryParams('a=1&b=eq.2', { rpcRead: true }).rpcArgs, [['a', '1']]);
    assert.equal(parseError(() => parseQueryParams('limit=-1')).code, 'PGRST100');
    assert.equal(parseError(() => parseQueryParams('limit=ten')).code, 'PGRST100');
  });
});

describe('headers and responses', () => {
  it('Prefer, Accept, Range', () => {
    assert.deepEqual(parsePrefer(['return=representation, count=exact', 'resolution=merge-duplicates,missing=default', 'tx=rollback, bogus=1, return=minimal']), {
      return: 'representation', count: 'exact', resolution: 'merge-duplicates', missing: 'default', tx: 'rollback',
    });
    assert.deepEqual(negotiate(undefined), { object: false, stripNulls: false });
    assert.deepEqual(negotiate('application/vnd.pgrst.object+json;nulls=stripped'), { object: true, stripNulls: true });
    assert.deepEqual(negotiate('text/html, */*;q=0.1'), { object: false, stripNulls: false });
    assert.equal(parseError(() => negotiate('text/csv')).status, 406);
    assert.deepEqual(parseRange('5-9'), { offset: 5, limit: 5 });
    assert.deepEqual(parseRange('5-'), { offset: 5, limit: undefined });
    assert.equal(parseRange('9-5'), undefined);
    assert.equal(parseRange('bytes=0-1'), undefined);
  });

  it('Content-Range and single objects as PostgREST writes them', () => {
    assert.equal(contentRange(0, 9, 42), '0-9/42');
    assert.equal(contentRange(0, -1, 0), '*/0');
    assert.equal(contentRange(0, 4, undefined), '0-4/*');
    assert.equal(contentRange(1, 0, 3), '*/3');
    assert.equal(unwrapSingle('[{"a": [1, 2]}]'), '{"a": [1, 2]}');
    assert.equal(unwrapSingle('[]'), 'null');
  });

  it('SQLSTATE → status as PostgREST maps it, with Steward\'s two deviations', () => {
    const cases: [string, boolean, number][] = [
      ['42501', false, 401], ['42501', true, 403], ['23505', true, 409], ['23503', true, 409], ['25006', true, 405],
      ['42883', true, 404], ['42P01', true, 404], ['P0001', true, 400], ['22P02', true, 400], ['23502', true, 400],
      ['08006', true, 503], ['53300', true, 503], ['40001', true, 500], ['XX000', true, 500], ['PT418', true, 418],
      ['P0002', true, 404], ['55000', true, 409],
    ];
    for (const [code, authed, status] of cases) assert.equal(statusOfSqlState(code, 'm', authed), status, code);
  });

  it('token lifetimes for steward tokens mint', () => {
    assert.deepEqual(['90', '30s', '15m', '1h', '7d'].map(parseTtl), [90, 30, 900, 3600, 604_800]);
    for (const bad of ['0', '-1', '1y', '400d', 'soon']) assert.throws(() => parseTtl(bad));
  });
});
