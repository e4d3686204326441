// The difference between two versions of a tool's input JSON Schema, and whether it can
// break a call written for the old one. Pure. The drift monitor stores the result in
// catalog_audit.diff and flags pending envelopes when it is breaking.
//
// "Breaking" means: arguments that the old schema accepted may be refused, or silently
// mean something else, under the new one. The issue names three cases (a new required
// field, a removed field, a type change); the same reasoning makes every narrowing
// breaking (a field newly required, enum values removed, a bound tightened) and every
// widening not. Where the change cannot be judged (a new pattern, a changed anyOf/$ref),
// it counts as breaking: a person looking at a held envelope costs less than a call
// made against a schema nobody checked.
import { isDeepStrictEqual } from 'node:util';

export type SchemaChangeKind =
  | 'field_added' // a new optional property
  | 'required_field_added' // a new property that is required (breaking)
  | 'field_removed' // a property is gone (breaking)
  | 'field_now_required' // an existing property became required (breaking)
  | 'field_now_optional'
  | 'type_changed' // the new type does not accept every value the old one did (breaking)
  | 'type_widened' // it accepts all of them and more
  | 'enum_added' // the values are restricted to a list where any was allowed (breaking)
  | 'enum_removed' // any value is allowed where a list was
  | 'enum_values_added'
  | 'enum_values_removed' // (breaking)
  | 'constraint_tightened' // a bound, uniqueItems, additionalProperties, items narrowed (breaking)
  | 'constraint_loosened'
  | 'constraint_changed' // pattern, format or multipleOf changed: cannot be judged (breaking)
  | 'composition_changed' // anyOf/oneOf/allOf/not/$ref/…: not analysed (breaking)
  | 'default_changed'
  | 'annotation_changed'; // title, description, examples, and keywords validation ignores

export const BREAKING_KINDS: ReadonlySet<SchemaChangeKind> = new Set<SchemaChangeKind>([
  'required_field_added', 'field_removed', 'field_now_required', 'type_changed', 'enum_added',
  'enum_values_removed', 'constraint_tightened', 'constraint_changed', 'composition_changed',
]);

export interface SchemaChange {
  kind: SchemaChangeKind;
  /**
   * Where: '' for the schema itself, `to` for a property, `address.city` nested,
   * `labels[]` for an array's items, `meta.*` for additionalProperties' schema.
   */
  path: string;
  /** The keyword concerned, for constraint, composition, default and annotation changes. */
  keyword?: string;
  from?: unknown;
  to?: unknown;
  /** For enum_values_added / enum_values_removed: the values. */
  values?: unknown[];
  breaking: boolean;
}

export interface SchemaDiff {
  /** True when any change is breaking. */
  breaking: boolean;
  /** Sorted by path, then kind, then keyword; empty when the schemas are equivalent. */
  changes: SchemaChange[];
}

type Schema = Record<string, unknown>;

// Lower bounds tighten when they grow; upper bounds when they shrink.
const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'];
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'];
// Changed (not added or removed), these cannot be ordered.
const UNORDERED_CONSTRAINTS = ['pattern', 'format', 'multipleOf'];
const COMPOSITION = [
  'anyOf', 'oneOf', 'allOf', 'not', '$ref', 'if', 'then', 'else', 'dependentRequired', 'dependentSchemas',
  'dependencies', 'patternProperties', 'propertyNames', 'contains', 'minContains', 'maxContains', 'prefixItems',
  'additionalItems', 'unevaluatedProperties', 'unevaluatedItems', '$defs', 'definitions',
];
// Handled by name below; every other keyword is an annotation as far as validation goes.
const HANDLED = new Set([
  'type', 'nullable', 'enum', 'const', 'properties', 'required', 'items', 'additionalProperties', 'uniqueItems', 'default',
  ...LOWER_BOUNDS, ...UPPER_BOUNDS, ...UNORDERED_CONSTRAINTS, ...COMPOSITION,
]);

/** What changed from `before` to `after` (two JSON Schemas of a tool's input). */
export function diffSchemas(before: unknown, after: unknown): SchemaDiff {
  const changes: SchemaChange[] = [];
  diffNode(before, after, '', changes);
  changes.sort((a, b) => compare(a.path, b.path) || compare(a.kind, b.kind) || compare(a.keyword ?? '', b.keyword ?? ''));
  return { breaking: changes.some((c) => c.breaking), changes };
}

function change(kind: SchemaChangeKind, path: string, extra: Omit<SchemaChange, 'kind' | 'path' | 'breaking'> = {}): SchemaChange {
  // Absent keys rather than `undefined` values: the diff is stored as jsonb and compared.
  const defined = Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined));
  return { kind, path, ...defined, breaking: BREAKING_KINDS.has(kind) };
}

const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const join = (path: string, name: string): string => (path === '' ? name : `${path}.${name}`);

function diffNode(before: unknown, after: unknown, path: string, out: SchemaChange[]): void {
  if (isDeepStrictEqual(before, after)) return;
  // Boolean schemas (`true`, `false`) and anything malformed: compared whole.
  if (!isSchema(before) || !isSchema(after)) {
    out.push(change('composition_changed', path, { from: before, to: after }));
    return;
  }
  // A node whose type changed is a different thing: its children's differences are noise.
  if (diffType(before, after, path, out)) return;
  diffEnum(before, after, path, out);
  diffBounds(before, after, path, out);
  diffProperties(before, after, path, out);
  diffItems(before, after, path, out);
  diffAdditionalProperties(before, after, path, out);
  diffUniqueItems(before, after, path, out);
  for (const keyword of COMPOSITION) {
    if (!isDeepStrictEqual(before[keyword], after[keyword])) {
      out.push(change('composition_changed', path, { keyword, from: before[keyword], to: after[keyword] }));
    }
  }
  if (!isDeepStrictEqual(before['default'], after['default'])) {
    out.push(change('default_changed', path, { keyword: 'default', from: before['default'], to: after['default'] }));
  }
  const annotations = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !HANDLED.has(k)).sort();
  for (const keyword of annotations) {
    if (!isDeepStrictEqual(before[keyword], after[keyword])) {
      out.push(change('annotation_changed', path, { keyword, from: before[keyword], to: after[keyword] }));
    }
  }
}

/** The JSON types a schema admits (`nullable: true` adds null); undefined = any. */
function typeSet(schema: Schema): string[] | undefined {
  const type = schema['type'];
  const listed = typeof type === 'string' ? [type] : Array.isArray(type) ? type.filter((t): t is string => typeof t === 'string') : undefined;
  if (listed === undefined) return undefined;
  const types = new Set(listed);
  if (schema['nullable'] === true) types.add('null');
  return [...types].sort();
}

/** Whether `types` admits every value of JSON type `t` (a number type admits integers). */
const admits = (types: readonly string[], t: string): boolean => types.includes(t) || (t === 'integer' && types.includes('number'));

/** Records a type change; true when it is a narrowing (the node's children are then not compared). */
function diffType(before: Schema, after: Schema, path: string, out: SchemaChange[]): boolean {
  const from = typeSet(before);
  const to = typeSet(after);
  if (isDeepStrictEqual(from, to)) return false;
  const widened = to === undefined || (from !== undefined && from.every((t) => admits(to, t)));
  out.push(change(widened ? 'type_widened' : 'type_changed', path, { from: from ?? 'any', to: to ?? 'any' }));
  return !widened;
}

/** `enum`, or `const` as a one-value enum. */
function allowedValues(schema: Schema): unknown[] | undefined {
  if (Array.isArray(schema['enum'])) return schema['enum'] as unknown[];
  return 'const' in schema ? [schema['const']] : undefined;
}

function diffEnum(before: Schema, after: Schema, path: string, out: SchemaChange[]): void {
  const from = allowedValues(before);
  const to = allowedValues(after);
  if (from === undefined && to === undefined) return;
  if (from === undefined) {
    out.push(change('enum_added', path, { to }));
    return;
  }
  if (to === undefined) {
    out.push(change('enum_removed', path, { from }));
    return;
  }
  const added = to.filter((v) => !from.some((w) => isDeepStrictEqual(v, w)));
  const removed = from.filter((v) => !to.some((w) => isDeepStrictEqual(v, w)));
  if (added.length > 0) out.push(change('enum_values_added', path, { values: added }));
  if (removed.length > 0) out.push(change('enum_values_removed', path, { values: removed }));
}

function diffBounds(before: Schema, after: Schema, path: string, out: SchemaChange[]): void {
  const bounds: [string, 'lower' | 'upper' | 'unordered'][] = [
    ...LOWER_BOUNDS.map((k): [string, 'lower'] => [k, 'lower']),
    ...UPPER_BOUNDS.map((k): [string, 'upper'] => [k, 'upper']),
    ...UNORDERED_CONSTRAINTS.map((k): [string, 'unordered'] => [k, 'unordered']),
  ];
  for (const [keyword, direction] of bounds) {
    const from = before[keyword];
    const to = after[keyword];
    if (isDeepStrictEqual(from, to)) continue;
    const extra = { keyword, from, to };
    if (from === undefined) out.push(change('constraint_tightened', path, extra));
    else if (to === undefined) out.push(change('constraint_loosened', path, extra));
    else if (direction === 'unordered' || typeof from !== 'number' || typeof to !== 'number') out.push(change('constraint_changed', path, extra));
    else out.push(change((direction === 'lower') === to > from ? 'constraint_tightened' : 'constraint_loosened', path, extra));
  }
}

function requiredOf(schema: Schema): Set<string> {
  const required = schema['required'];
  return new Set(Array.isArray(required) ? required.filter((r): r is string => typeof r === 'string') : []);
}

function propertiesOf(schema: Schema): Schema {
  const properties = schema['properties'];
  return isSchema(properties) ? properties : {};
}

function diffProperties(before: Schema, after: Schema, path: string, out: SchemaChange[]): void {
  const fromProps = propertiesOf(before);
  const toProps = propertiesOf(after);
  const fromRequired = requiredOf(before);
  const toRequired = requiredOf(after);
  // A field is whatever is described or required (required may name an undescribed field).
  const fromFields = new Set([...Object.keys(fromProps), ...fromRequired]);
  const toFields = new Set([...Object.keys(toProps), ...toRequired]);
  for (const name of [...new Set([...fromFields, ...toFields])].sort()) {
    const at = join(path, name);
    if (!fromFields.has(name)) {
      out.push(change(toRequired.has(name) ? 'required_field_added' : 'field_added', at, toProps[name] === undefined ? {} : { to: toProps[name] }));
      continue;
    }
    if (!toFields.has(name)) {
      out.push(change('field_removed', at, fromProps[name] === undefined ? {} : { from: fromProps[name] }));
      continue;
    }
    if (!fromRequired.has(name) && toRequired.has(name)) out.push(change('field_now_required', at));
    if (fromRequired.has(name) && !toRequired.has(name)) out.push(change('field_now_optional', at));
    // An undescribed field on one side only: compared as "any" against the description.
    diffNode(fromProps[name] ?? {}, toProps[name] ?? {}, at, out);
  }
}

function diffItems(before: Schema, after: Schema, path: string, out: SchemaChange[]): void {
  const from = before['items'];
  const to = after['items'];
  if (isDeepStrictEqual(from, to)) return;
  const at = `${path}[]`;
  if (from === undefined) out.push(change('constraint_tightened', path, { keyword: 'items', to }));
  else if (to === undefined) out.push(change('constraint_loosened', path, { keyword: 'items', from }));
  else diffNode(from, to, at, out); // a tuple (array) form differs as a whole: composition_changed
}

/** absent, true and {} all admit any extra property. */
const isOpen = (value: unknown): boolean => value === undefined || value === true || (isSchema(value) && Object.keys(value).length === 0);

function diffAdditionalProperties(before: Schema, after: Schema, path: string, out: SchemaChange[]): void {
  const from = before['additionalProperties'];
  const to = after['additionalProperties'];
  if (isDeepStrictEqual(from, to) || (isOpen(from) && isOpen(to))) return;
  const extra = { keyword: 'additionalProperties', from, to };
  if (isOpen(from)) out.push(change('constraint_tightened', path, extra));
  else if (isOpen(to)) out.push(change('constraint_loosened', path, extra));
  else if (from === false) out.push(change('constraint_loosened', path, extra)); // none → some
  else if (to === false) out.push(change('constraint_tightened', path, extra));
  else diffNode(from, to, join(path, '*'), out);
}

function diffUniqueItems(before: Schema, after: Schema, path: string, out: SchemaChange[]): void {
  const from = before['uniqueItems'] === true;
  const to = after['uniqueItems'] === true;
  if (from === to) return;
  out.push(change(to ? 'constraint_tightened' : 'constraint_loosened', path, { keyword: 'uniqueItems', from: before['uniqueItems'], to: after['uniqueItems'] }));
}
