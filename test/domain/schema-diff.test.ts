import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BREAKING_KINDS, diffSchemas, type SchemaChange, type SchemaChangeKind } from '../../src/domain/schema-diff.ts';

type Schema = Record<string, unknown>;
const obj = (properties: Record<string, Schema>, required: string[] = [], extra: Schema = {}): Schema => ({ type: 'object', properties, required, ...extra });
const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });

/** The changes as [kind, path, keyword?] triples, for compact expectations. */
const kinds = (before: unknown, after: unknown) => diffSchemas(before, after).changes.map((c) => (c.keyword === undefined ? [c.kind, c.path] : [c.kind, c.path, c.keyword]));
const only = (before: unknown, after: unknown): SchemaChange => {
  const { changes } = diffSchemas(before, after);
  assert.equal(changes.length, 1, JSON.stringify(changes));
  return changes[0]!;
};

describe('diffSchemas: no change', () => {
  it('equal schemas, identical or with keys in another order, have no changes', () => {
    const a = obj({ to: str({ title: 'To' }), cc: { type: 'array', items: str() } }, ['to']);
    const b = { required: ['to'], properties: { cc: { items: str(), type: 'array' }, to: { title: 'To', type: 'string' } }, type: 'object' };
    assert.deepEqual(diffSchemas(a, a), { breaking: false, changes: [] });
    assert.deepEqual(diffSchemas(a, b), { breaking: false, changes: [] });
    assert.deepEqual(diffSchemas({}, {}), { breaking: false, changes: [] });
  });

  it('required in another order, a type written as a one-element list, true vs absent additionalProperties: no change', () => {
    assert.deepEqual(kinds(obj({ a: str(), b: str() }, ['a', 'b']), obj({ a: str(), b: str() }, ['b', 'a'])), []);
    assert.deepEqual(kinds({ type: 'string' }, { type: ['string'] }), []);
    assert.deepEqual(kinds(obj({}), obj({}, [], { additionalProperties: true })), []);
    assert.deepEqual(kinds(obj({}, [], { additionalProperties: {} }), obj({})), []);
    assert.deepEqual(kinds({ type: ['string', 'null'] }, { type: 'string', nullable: true }), []);
  });
});

describe('diffSchemas: fields', () => {
  it('a new optional field is not breaking; the new field schema is given', () => {
    const c = only(obj({ a: str() }), obj({ a: str(), b: { type: 'integer' } }));
    assert.deepEqual(c, { kind: 'field_added', path: 'b', to: { type: 'integer' }, breaking: false });
  });

  it('a new required field is breaking', () => {
    const c = only(obj({ a: str() }, ['a']), obj({ a: str(), b: str() }, ['a', 'b']));
    assert.deepEqual(c, { kind: 'required_field_added', path: 'b', to: { type: 'string' }, breaking: true });
  });

  it('a removed field is breaking, optional or required', () => {
    assert.deepEqual(only(obj({ a: str(), b: str() }), obj({ a: str() })), { kind: 'field_removed', path: 'b', from: { type: 'string' }, breaking: true });
    assert.deepEqual(kinds(obj({ a: str(), b: str() }, ['a', 'b']), obj({ a: str() }, ['a'])), [['field_removed', 'b']]);
  });

  it('a field becoming required is breaking; becoming optional is not', () => {
    assert.deepEqual(only(obj({ a: str() }), obj({ a: str() }, ['a'])), { kind: 'field_now_required', path: 'a', breaking: true });
    assert.deepEqual(only(obj({ a: str() }, ['a']), obj({ a: str() })), { kind: 'field_now_optional', path: 'a', breaking: false });
  });

  it('a rename is a removal plus an addition (the fake catalog\'s GMAIL_SEND_EMAIL v1 → v2)', () => {
    const v1 = obj({ recipient_email: str(), body: str() }, ['recipient_email', 'body']);
    const v2 = obj({ to: str(), body: str() }, ['to', 'body']);
    const diff = diffSchemas(v1, v2);
    assert.equal(diff.breaking, true);
    assert.deepEqual(diff.changes.map((c) => [c.kind, c.path]), [['field_removed', 'recipient_email'], ['required_field_added', 'to']]);
  });

  it('a field named only in required counts as a field (an undescribed one)', () => {
    assert.deepEqual(kinds({ type: 'object', required: [] }, { type: 'object', required: ['x'] }), [['required_field_added', 'x']]);
    assert.deepEqual(kinds({ type: 'object', required: ['x'] }, { type: 'object' }), [['field_removed', 'x']]);
    // Described later: from "any" to a type is a narrowing.
    assert.deepEqual(kinds({ type: 'object', required: ['x'] }, obj({ x: str() }, ['x'])), [['type_changed', 'x']]);
  });

  it('nested objects report dotted paths', () => {
    const before = obj({ address: obj({ city: str(), zip: str() }, ['city']) });
    const after = obj({ address: obj({ city: { type: 'integer' }, street: str() }, ['city', 'street']) });
    assert.deepEqual(kinds(before, after), [
      ['type_changed', 'address.city'],
      ['required_field_added', 'address.street'],
      ['field_removed', 'address.zip'],
    ]);
  });

  it('properties that are not an object, or missing, are read as none', () => {
    assert.deepEqual(kinds({ type: 'object', properties: 'nonsense' }, obj({ a: str() })), [['field_added', 'a']]);
  });
});

describe('diffSchemas: types', () => {
  it('a type change is breaking and reports from and to as type lists', () => {
    const c = only(obj({ phone: str({ title: 'Phone' }) }), obj({ phone: { type: 'array', items: str(), title: 'Phones' } }));
    assert.deepEqual(c, { kind: 'type_changed', path: 'phone', from: ['string'], to: ['array'], breaking: true });
  });

  it('a changed type hides the node\'s other differences (it is a different thing now)', () => {
    const before = obj({ x: obj({ a: str() }, ['a'], { description: 'old' }) });
    const after = obj({ x: { type: 'string', description: 'new', minLength: 3 } });
    assert.deepEqual(kinds(before, after), [['type_changed', 'x']]);
  });

  it('widening is not breaking: an added type, integer → number, nullable, or no type at all', () => {
    assert.deepEqual(only(str(), { type: ['string', 'integer'] }), { kind: 'type_widened', path: '', from: ['string'], to: ['integer', 'string'], breaking: false });
    assert.deepEqual(kinds({ type: 'integer' }, { type: 'number' }), [['type_widened', '']]);
    assert.deepEqual(kinds(str(), str({ nullable: true })), [['type_widened', '']]);
    assert.deepEqual(only(str(), {}), { kind: 'type_widened', path: '', from: ['string'], to: 'any', breaking: false });
  });

  it('narrowing is breaking: a type dropped, number → integer, nullable removed, any → typed', () => {
    assert.deepEqual(kinds({ type: ['string', 'integer'] }, str()), [['type_changed', '']]);
    assert.deepEqual(kinds({ type: 'number' }, { type: 'integer' }), [['type_changed', '']]);
    assert.deepEqual(kinds(str({ nullable: true }), str()), [['type_changed', '']]);
    assert.deepEqual(only({}, str()), { kind: 'type_changed', path: '', from: 'any', to: ['string'], breaking: true });
  });

  it('a widened type still compares the rest of the node', () => {
    assert.deepEqual(kinds(str({ maxLength: 5 }), { type: ['string', 'null'], maxLength: 3 }), [
      ['constraint_tightened', '', 'maxLength'],
      ['type_widened', ''],
    ]);
  });
});

describe('diffSchemas: enums', () => {
  it('values added are not breaking; values removed are', () => {
    assert.deepEqual(only(str({ enum: ['a', 'b'] }), str({ enum: ['a', 'b', 'c'] })), { kind: 'enum_values_added', path: '', values: ['c'], breaking: false });
    assert.deepEqual(only(str({ enum: ['a', 'b'] }), str({ enum: ['a'] })), { kind: 'enum_values_removed', path: '', values: ['b'], breaking: true });
    assert.deepEqual(kinds(str({ enum: ['a', 'b'] }), str({ enum: ['a', 'c'] })), [['enum_values_added', ''], ['enum_values_removed', '']]);
  });

  it('values are compared as JSON, in any order', () => {
    assert.deepEqual(kinds({ enum: [{ x: 1 }, 2] }, { enum: [2, { x: 1 }] }), []);
  });

  it('an enum where there was none is breaking; dropping one is not', () => {
    assert.deepEqual(only(str(), str({ enum: ['a'] })), { kind: 'enum_added', path: '', to: ['a'], breaking: true });
    assert.deepEqual(only(str({ enum: ['a'] }), str()), { kind: 'enum_removed', path: '', from: ['a'], breaking: false });
  });

  it('const is a one-value enum', () => {
    assert.deepEqual(kinds(str({ const: 'a' }), str({ enum: ['a'] })), []);
    assert.deepEqual(kinds(str({ const: 'a' }), str({ const: 'b' })), [['enum_values_added', ''], ['enum_values_removed', '']]);
  });
});

describe('diffSchemas: constraints', () => {
  const cases: [string, Schema, Schema, SchemaChangeKind][] = [
    ['minimum raised', { type: 'integer', minimum: 1 }, { type: 'integer', minimum: 2 }, 'constraint_tightened'],
    ['minimum lowered', { type: 'integer', minimum: 2 }, { type: 'integer', minimum: 1 }, 'constraint_loosened'],
    ['maximum lowered', { type: 'integer', maximum: 10 }, { type: 'integer', maximum: 5 }, 'constraint_tightened'],
    ['maximum raised', { type: 'integer', maximum: 5 }, { type: 'integer', maximum: 10 }, 'constraint_loosened'],
    ['minLength added', str(), str({ minLength: 1 }), 'constraint_tightened'],
    ['maxLength removed', str({ maxLength: 9 }), str(), 'constraint_loosened'],
    ['minItems raised', { type: 'array', minItems: 0 }, { type: 'array', minItems: 1 }, 'constraint_tightened'],
    ['maxItems lowered', { type: 'array', maxItems: 9 }, { type: 'array', maxItems: 1 }, 'constraint_tightened'],
    ['exclusiveMinimum raised', { type: 'number', exclusiveMinimum: 0 }, { type: 'number', exclusiveMinimum: 1 }, 'constraint_tightened'],
    ['exclusiveMaximum raised', { type: 'number', exclusiveMaximum: 1 }, { type: 'number', exclusiveMaximum: 2 }, 'constraint_loosened'],
    ['minProperties raised', { type: 'object', minProperties: 0 }, { type: 'object', minProperties: 1 }, 'constraint_tightened'],
    ['maxProperties raised', { type: 'object', maxProperties: 1 }, { type: 'object', maxProperties: 2 }, 'constraint_loosened'],
    ['pattern added', str(), str({ pattern: '^a' }), 'constraint_tightened'],
    ['pattern changed', str({ pattern: '^a' }), str({ pattern: '^b' }), 'constraint_changed'],
    ['pattern removed', str({ pattern: '^a' }), str(), 'constraint_loosened'],
    ['format changed', str({ format: 'email' }), str({ format: 'uri' }), 'constraint_changed'],
    ['multipleOf changed', { type: 'number', multipleOf: 2 }, { type: 'number', multipleOf: 4 }, 'constraint_changed'],
    ['a bound that is not a number', { type: 'integer', minimum: '1' }, { type: 'integer', minimum: 2 }, 'constraint_changed'],
    ['uniqueItems added', { type: 'array' }, { type: 'array', uniqueItems: true }, 'constraint_tightened'],
    ['uniqueItems dropped', { type: 'array', uniqueItems: true }, { type: 'array', uniqueItems: false }, 'constraint_loosened'],
    ['additionalProperties closed', obj({}), obj({}, [], { additionalProperties: false }), 'constraint_tightened'],
    ['additionalProperties opened', obj({}, [], { additionalProperties: false }), obj({}), 'constraint_loosened'],
    ['additionalProperties given a schema', obj({}), obj({}, [], { additionalProperties: str() }), 'constraint_tightened'],
    ['additionalProperties from none to a schema', obj({}, [], { additionalProperties: false }), obj({}, [], { additionalProperties: str() }), 'constraint_loosened'],
    ['additionalProperties from a schema to none', obj({}, [], { additionalProperties: str() }), obj({}, [], { additionalProperties: false }), 'constraint_tightened'],
    ['items given to an array', { type: 'array' }, { type: 'array', items: str() }, 'constraint_tightened'],
    ['items dropped', { type: 'array', items: str() }, { type: 'array' }, 'constraint_loosened'],
  ];
  for (const [name, before, after, kind] of cases) {
    it(`${name} → ${kind} (${BREAKING_KINDS.has(kind) ? 'breaking' : 'not breaking'})`, () => {
      const c = only(before, after);
      assert.equal(c.kind, kind);
      assert.equal(c.breaking, BREAKING_KINDS.has(kind));
      assert.equal(diffSchemas(before, after).breaking, c.breaking);
    });
  }

  it('a constraint change names the keyword and both values', () => {
    assert.deepEqual(only({ type: 'integer', maximum: 10 }, { type: 'integer', maximum: 5 }), {
      kind: 'constraint_tightened', path: '', keyword: 'maximum', from: 10, to: 5, breaking: true,
    });
  });

  it('additionalProperties schemas are compared under `.*`', () => {
    assert.deepEqual(kinds(obj({}, [], { additionalProperties: str() }), obj({}, [], { additionalProperties: { type: 'integer' } })), [['type_changed', '*']]);
  });
});

describe('diffSchemas: arrays', () => {
  it('item schemas are compared under `[]`', () => {
    const before = obj({ labels: { type: 'array', items: str() } });
    const after = obj({ labels: { type: 'array', items: str({ enum: ['a'] }) } });
    assert.deepEqual(kinds(before, after), [['enum_added', 'labels[]']]);
  });

  it('items of objects nest', () => {
    const before = { type: 'array', items: obj({ id: str() }, ['id']) };
    const after = { type: 'array', items: obj({ id: str(), qty: { type: 'integer' } }, ['id', 'qty']) };
    assert.deepEqual(kinds(before, after), [['required_field_added', '[].qty']]);
  });

  it('tuple items (an array of schemas) differ as a whole', () => {
    assert.deepEqual(kinds({ type: 'array', items: [str()] }, { type: 'array', items: [str(), str()] }), [['composition_changed', '[]']]);
  });
});

describe('diffSchemas: what is not analysed', () => {
  for (const keyword of ['anyOf', 'oneOf', 'allOf', 'not', '$ref', 'if', 'patternProperties', 'prefixItems', '$defs']) {
    it(`a changed ${keyword} is a breaking composition_changed`, () => {
      const c = only({ [keyword]: [str()] }, { [keyword]: [str(), { type: 'integer' }] });
      assert.deepEqual(c, { kind: 'composition_changed', path: '', keyword, from: [str()], to: [str(), { type: 'integer' }], breaking: true });
    });
  }

  it('boolean and malformed schemas are compared whole', () => {
    assert.deepEqual(only(obj({ a: true as unknown as Schema }), obj({ a: false as unknown as Schema })), {
      kind: 'composition_changed', path: 'a', from: true, to: false, breaking: true,
    });
    assert.deepEqual(kinds(null, {}), [['composition_changed', '']]);
  });
});

describe('diffSchemas: annotations and defaults', () => {
  it('title, description, examples and unknown keywords are annotations, not breaking', () => {
    const before = str({ title: 'To', description: 'old', examples: ['a'], file_uploadable: false });
    const after = str({ title: 'Recipient', description: 'new', examples: ['b'], file_uploadable: true });
    const diff = diffSchemas(before, after);
    assert.equal(diff.breaking, false);
    assert.deepEqual(diff.changes.map((c) => [c.kind, c.keyword]), [
      ['annotation_changed', 'description'], ['annotation_changed', 'examples'], ['annotation_changed', 'file_uploadable'], ['annotation_changed', 'title'],
    ]);
    assert.deepEqual(diff.changes[0], { kind: 'annotation_changed', path: '', keyword: 'description', from: 'old', to: 'new', breaking: false });
  });

  it('an annotation added or removed has only the side that exists', () => {
    assert.deepEqual(only(str(), str({ title: 'T' })), { kind: 'annotation_changed', path: '', keyword: 'title', to: 'T', breaking: false });
    assert.deepEqual(only(str({ title: 'T' }), str()), { kind: 'annotation_changed', path: '', keyword: 'title', from: 'T', breaking: false });
  });

  it('a default change is not breaking', () => {
    assert.deepEqual(only(str({ default: 'me' }), str({ default: 'you' })), { kind: 'default_changed', path: '', keyword: 'default', from: 'me', to: 'you', breaking: false });
  });
});

describe('diffSchemas: the whole', () => {
  it('breaking is true when any change is, and changes come sorted by path, kind, keyword', () => {
    const before = obj({ z: str({ title: 'Z' }), a: str(), m: { type: 'integer', maximum: 5 } }, ['a']);
    const after = obj({ z: str({ title: 'Zed' }), m: { type: 'integer', maximum: 10 }, b: str() }, ['b']);
    const diff = diffSchemas(before, after);
    assert.equal(diff.breaking, true);
    assert.deepEqual(diff.changes.map((c) => [c.kind, c.path]), [
      ['field_removed', 'a'],
      ['required_field_added', 'b'],
      ['constraint_loosened', 'm'],
      ['annotation_changed', 'z'],
    ]);
  });

  it('only non-breaking changes: breaking is false', () => {
    assert.equal(diffSchemas(obj({ a: str() }), obj({ a: str(), b: str() })).breaking, false);
  });

  it('the fake catalog\'s three changes have the diffs the drift monitor records', () => {
    const slackV1 = obj({ channel: str(), text: str(), thread_ts: str(), as_user: { type: 'boolean', default: false } }, ['channel', 'text']);
    const slackV2 = obj({ channel: str(), text: str(), markdown_text: str(), thread_ts: str() }, ['channel', 'text']);
    assert.deepEqual(kinds(slackV1, slackV2), [['field_removed', 'as_user'], ['field_added', 'markdown_text']]);
    assert.equal(diffSchemas(slackV1, slackV2).breaking, true);
  });

  it('is deterministic and does not modify its inputs', () => {
    const before = obj({ a: str({ enum: ['x', 'y'] }) }, ['a']);
    const after = obj({ a: str({ enum: ['y'] }), b: str() }, ['a', 'b']);
    const copies = [structuredClone(before), structuredClone(after)];
    assert.deepEqual(diffSchemas(before, after), diffSchemas(before, after));
    assert.deepEqual([before, after], copies);
  });

  it('every kind has a fixed breaking flag', () => {
    const breaking: SchemaChangeKind[] = ['required_field_added', 'field_removed', 'field_now_required', 'type_changed', 'enum_added',
      'enum_values_removed', 'constraint_tightened', 'constraint_changed', 'composition_changed'];
    assert.deepEqual([...BREAKING_KINDS].sort(), [...breaking].sort());
  });
});
