import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareTool, removedTool, type CurrentTool, type StoredTool } from '../../src/domain/catalog-drift.ts';

const schema = { type: 'object', properties: { to: { type: 'string' } }, required: ['to'] };
const current: CurrentTool = {
  slug: 'GMAIL_SEND_EMAIL', version: '20250909_00', displayName: 'Send Email', description: 'Sends an email.',
  schema, requiredScopes: ['gmail.send', 'gmail.compose'], derivedRisk: 'medium',
};
const stored: StoredTool = {
  slug: current.slug, version: current.version, displayName: current.displayName, description: current.description,
  schema: structuredClone(schema), requiredScopes: ['gmail.compose', 'gmail.send'], derivedRisk: 'medium', removed: false,
};

describe('compareTool', () => {
  it('identical (scopes in another order): unchanged', () => {
    assert.deepEqual(compareTool(stored, current), { outcome: 'unchanged' });
  });

  it('only the version moved: version_only, no change row', () => {
    assert.deepEqual(compareTool(stored, { ...current, version: '20251120_00' }), { outcome: 'version_only' });
  });

  it('not in the catalog: added', () => {
    assert.deepEqual(compareTool(undefined, current), {
      outcome: 'added',
      change: { slug: current.slug, change: 'added', fromVersion: null, toVersion: current.version, breaking: false, diff: {} },
    });
  });

  it('marked removed and listed again: added, readded, from its last version', () => {
    assert.deepEqual(compareTool({ ...stored, removed: true, version: 'v0' }, current), {
      outcome: 'added',
      change: { slug: current.slug, change: 'added', fromVersion: 'v0', toVersion: current.version, breaking: false, diff: { readded: true } },
    });
  });

  it('a breaking schema change: changed, breaking, with the schema diff', () => {
    const after = { ...current, version: 'v2', schema: { type: 'object', properties: { to: { type: 'string' }, body: { type: 'string' } }, required: ['to', 'body'] } };
    const result = compareTool(stored, after);
    assert.equal(result.outcome, 'changed');
    assert.ok(result.outcome === 'changed');
    assert.deepEqual(result.change, {
      slug: current.slug, change: 'changed', fromVersion: current.version, toVersion: 'v2', breaking: true,
      diff: { schema: { breaking: true, changes: [{ kind: 'required_field_added', path: 'body', to: { type: 'string' }, breaking: true }] } },
    });
  });

  it('other fields: changed, not breaking, each field with from and to', () => {
    const result = compareTool(stored, { ...current, displayName: 'Send', description: null, requiredScopes: ['gmail.send'], derivedRisk: 'high' });
    assert.ok(result.outcome === 'changed');
    assert.equal(result.change.breaking, false);
    assert.deepEqual(result.change.diff, {
      fields: [
        { field: 'display_name', from: 'Send Email', to: 'Send' },
        { field: 'description', from: 'Sends an email.', to: null },
        { field: 'required_scopes', from: ['gmail.compose', 'gmail.send'], to: ['gmail.send'] },
        { field: 'risk', from: 'medium', to: 'high' },
      ],
    });
  });

  it('a hand-seeded entry (no derived tier) is not compared on risk', () => {
    assert.deepEqual(compareTool({ ...stored, derivedRisk: null }, current), { outcome: 'unchanged' });
  });
});

describe('removedTool', () => {
  it('is a breaking removal from the last version', () => {
    assert.deepEqual(removedTool({ slug: 'X', version: 'v1' }), { slug: 'X', change: 'removed', fromVersion: 'v1', toVersion: null, breaking: true, diff: {} });
  });
});
