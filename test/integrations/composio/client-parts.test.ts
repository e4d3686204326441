import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ComposioError, kindOfStatus, paginate, parseRetryAfter } from '../../../src/integrations/composio/index.ts';
import { buildQueryString } from '../../../src/integrations/composio/query-string.ts';

// The client's pure parts, without a server: Retry-After, status → kind, query strings
// and the cursor loop guard.

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-25T10:00:00Z');
  const parse = (headers: Record<string, string>) => parseRetryAfter(new Headers(headers), now);

  it('reads seconds, fractional seconds and an HTTP-date (a past date is 0)', () => {
    assert.equal(parse({ 'retry-after': '7' }), 7000);
    assert.equal(parse({ 'retry-after': ' 0 ' }), 0);
    assert.equal(parse({ 'retry-after': '1.5' }), 1500);
    assert.equal(parse({ 'retry-after': 'Wed, 25 Nov 2026 10:00:30 GMT' }), 30_000);
    assert.equal(parse({ 'retry-after': 'Wednesday, 25-Nov-26 10:01:00 GMT' }), 60_000, 'RFC 850 form');
    assert.equal(parse({ 'retry-after': 'Wed, 25 Nov 2026 09:59:00 GMT' }), 0);
  });

  it('prefers retry-after-ms, and ignores what is not a number or a date', () => {
    assert.equal(parse({ 'retry-after-ms': '250', 'retry-after': '9' }), 250);
    assert.equal(parse({ 'retry-after-ms': 'soon', 'retry-after': '9' }), 9000);
    for (const value of ['-5', '1e3', '0x10', 'soon', '', '2026-11-25', '12 parsecs']) {
      assert.equal(parse({ 'retry-after': value }), undefined, value);
    }
    assert.equal(parse({}), undefined);
  });
});

describe('kindOfStatus', () => {
  it('429, 408 and 5xx retry; 401/403 are auth; 409 conflict; other 4xx permanent', () => {
    const kinds = Object.fromEntries([400, 401, 403, 404, 408, 409, 410, 422, 429, 500, 502, 503, 504].map((s) => [s, kindOfStatus(s)]));
    assert.deepEqual(kinds, {
      400: 'permanent', 401: 'auth', 403: 'auth', 404: 'permanent', 408: 'retryable', 409: 'conflict', 410: 'permanent',
      422: 'permanent', 429: 'retryable', 500: 'retryable', 502: 'retryable', 503: 'retryable', 504: 'retryable',
    });
    assert.equal(kindOfStatus(503, false), 'permanent');
    assert.equal(kindOfStatus(404, true), 'retryable');
    assert.equal(kindOfStatus(403, true), 'auth');
    assert.equal(kindOfStatus(409, false), 'conflict');
  });
});

describe('buildQueryString', () => {
  it('joins arrays with commas, writes maps with brackets, leaves out undefined and empty arrays', () => {
    const query = buildQueryString({
      toolkit_slug: 'gmail', tool_slugs: ['A', 'B'], tags: [], search: undefined, limit: 50, include_deprecated: false,
      toolkit_versions: { gmail: '20250909_00', slack: 'latest' },
    });
    assert.equal(decodeURIComponent(query), '?toolkit_slug=gmail&tool_slugs=A,B&limit=50&include_deprecated=false&toolkit_versions[gmail]=20250909_00&toolkit_versions[slack]=latest');
    assert.equal(buildQueryString({ a: undefined, b: [] }), '');
    assert.equal(buildQueryString({ toolkit_versions: 'latest', q: 'a&b=c' }), '?toolkit_versions=latest&q=a%26b%3Dc');
  });
});

describe('paginate', () => {
  it('stops at a null or empty cursor, and refuses a cursor it has followed before', async () => {
    const pages: Record<string, { items: number[]; next_cursor: string | null }> = {
      start: { items: [1, 2], next_cursor: 'b' }, b: { items: [3], next_cursor: '' },
    };
    const seen: number[] = [];
    for await (const n of paginate('GET /x', (cursor) => Promise.resolve(pages[cursor ?? 'start']!))) seen.push(n);
    assert.deepEqual(seen, [1, 2, 3]);

    const looping = (cursor: string | undefined) => Promise.resolve({ items: [cursor ?? 'first'], next_cursor: cursor === 'c1' ? 'c2' : 'c1' });
    const got: string[] = [];
    await assert.rejects(async () => {
      for await (const item of paginate('GET /loop', looping)) got.push(item);
    }, (error: unknown) => error instanceof ComposioError && error.kind === 'permanent' && error.path === 'next_cursor' && error.operation === 'GET /loop');
    assert.deepEqual(got, ['first', 'c1', 'c2']);
  });
});
