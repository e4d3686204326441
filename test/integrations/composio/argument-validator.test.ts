import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArgumentValidator, type SchemaKey } from '../../../src/integrations/composio/argument-validator.ts';

// Arguments against a catalog schema: the problems name their paths; each schema
// compiles once per key and revision; Composio's extra keywords do not get in the way.

const key = (over: Partial<SchemaKey> = {}): SchemaKey => ({ tenantId: 't1', toolSlug: 'GMAIL_SEND_EMAIL', version: '20250909_00', revision: 1, ...over });
const SCHEMA = {
  type: 'object',
  properties: {
    to: { type: 'string', format: 'email', title: 'To', examples: ['a@b.c'] },
    cc: { type: 'array', items: { type: 'string' } },
    priority: { type: 'string', enum: ['low', 'high'] },
    'x-odd name': { type: 'integer', minimum: 1 },
    note: { type: 'string', nullable: true, file_uploadable: false },
  },
  required: ['to'],
};

describe('ArgumentValidator', () => {
  it('accepts arguments that fit, formats left to the provider', () => {
    assert.deepEqual(new ArgumentValidator().check(key(), SCHEMA, { to: 'not-an-email-but-a-string', cc: ['x'] }), { ok: true });
  });

  it('names each failing path: missing, wrong type, array items, enums, odd property names', () => {
    const check = new ArgumentValidator().check(key(), SCHEMA, { cc: ['ok', 3], priority: 'urgent', 'x-odd name': 0 });
    assert.ok(!check.ok && 'problems' in check);
    assert.deepEqual(check.problems, [
      { path: 'arguments.to', message: 'is required' },
      { path: 'arguments.cc[1]', message: 'must be string' },
      { path: 'arguments.priority', message: 'must be one of "low", "high"' },
      { path: 'arguments["x-odd name"]', message: 'must be >= 1' },
    ]);
  });

  it('compiles once per (tenant, tool, version, revision); a new revision compiles again; least recently used goes first', () => {
    const v = new ArgumentValidator({ maxEntries: 2 });
    for (let i = 0; i < 3; i++) v.check(key(), SCHEMA, { to: 'a' });
    assert.equal(v.compiled, 1);
    v.check(key({ tenantId: 't2' }), SCHEMA, { to: 'a' });
    v.check(key({ revision: 2 }), SCHEMA, { to: 'a' });
    assert.equal(v.compiled, 3);
    v.check(key({ revision: 2 }), SCHEMA, { to: 'a' });
    assert.equal(v.compiled, 3);
    v.check(key(), SCHEMA, { to: 'a' }); // evicted by the third key
    assert.equal(v.compiled, 4);
  });

  it('schemas with the same $id, or another dialect, do not clash; an invalid schema is reported, not thrown', () => {
    const v = new ArgumentValidator();
    const withId = { $id: 'https://example.com/args', $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', required: ['a'] };
    assert.equal(v.check(key({ tenantId: 'a' }), withId, {}).ok, false);
    assert.equal(v.check(key({ tenantId: 'b' }), { ...withId, required: ['b'] }, { a: 1 }).ok, false);
    const broken = v.check(key({ tenantId: 'c' }), { type: 'object', properties: { a: { type: 'strin' } } }, {});
    assert.ok(!broken.ok && 'schemaError' in broken);
    assert.match(broken.schemaError, /schema is invalid/);
  });

  it('an empty schema (no schema known) accepts anything', () => {
    assert.deepEqual(new ArgumentValidator().check(key(), {}, { anything: [1, 2] }), { ok: true });
  });
});
