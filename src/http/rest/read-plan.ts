import { ApiError } from '../api-error.ts';
import type { CatalogColumn, CatalogTable, ForeignKey, SchemaCatalog } from './catalog.ts';
import { restErrors } from './errors.ts';
import { outputName, type FieldRef, type JsonStep } from './parse-field.ts';
import type { Condition, LogicTree, Operation } from './parse-filter.ts';
import type { OrderTerm } from './parse-order.ts';
import type { SelectItem } from './parse-select.ts';
import type { EmbedPath, QueryParams } from './query-params.ts';

// Resolves a parsed request against the catalog: every column, relationship and cast is
// looked up here, and everything that reaches the SQL builders carries catalog objects,
// not request names. A name that is not in the catalog is refused here, before any SQL.

export interface ResolvedField {
  readonly column: CatalogColumn;
  readonly jsonPath: readonly JsonStep[];
}

export type PlannedItem =
  | { readonly kind: 'column'; readonly field: ResolvedField; readonly name: string; readonly cast?: string }
  | { readonly kind: 'embed'; readonly embed: PlannedEmbed };

export interface Relationship {
  readonly foreignKey: ForeignKey;
  /** Many-to-one (the parent holds the key): an object or null. Else one-to-many: an array. */
  readonly toOne: boolean;
  /** Pairs of (parent column, child column) that join the two. */
  readonly join: readonly (readonly [string, string])[];
}

export interface PlannedEmbed {
  /** The key of the embedded value in each parent object. */
  readonly name: string;
  readonly relationship: Relationship;
  readonly inner: boolean;
  readonly node: ReadNode;
}

export type PlannedCondition =
  | { readonly kind: 'field'; readonly field: ResolvedField; readonly negated: boolean; readonly operation: Operation }
  /** `rel=is.null` / `rel=not.is.null` on an embedded resource: whether it has a matching row. */
  | { readonly kind: 'embed_null'; readonly embed: PlannedEmbed; readonly isNull: boolean };

export type PlannedLogic =
  | { readonly kind: 'condition'; readonly condition: PlannedCondition }
  | { readonly kind: 'group'; readonly negated: boolean; readonly operator: 'and' | 'or'; readonly children: readonly PlannedLogic[] };

export interface PlannedOrder {
  readonly field: ResolvedField;
  readonly direction?: 'asc' | 'desc';
  readonly nulls?: 'first' | 'last';
}

/** One relation of the read: the top-level resource or an embedded one. */
export interface ReadNode {
  readonly table: CatalogTable;
  readonly items: readonly PlannedItem[];
  readonly filters: readonly PlannedLogic[];
  readonly order: readonly PlannedOrder[];
  readonly limit: number | undefined;
  readonly offset: number | undefined;
}

/** Casts a select may ask for (`col::text`), spelled as PostgreSQL knows them. */
const CASTS: Readonly<Record<string, string>> = {
  text: 'text', varchar: 'character varying', char: 'character', bpchar: 'character', name: 'name', citext: 'text',
  int: 'integer', integer: 'integer', int2: 'smallint', smallint: 'smallint', int4: 'integer', int8: 'bigint', bigint: 'bigint',
  numeric: 'numeric', decimal: 'numeric', real: 'real', float4: 'real', float8: 'double precision', 'double precision': 'double precision',
  bool: 'boolean', boolean: 'boolean', json: 'json', jsonb: 'jsonb', uuid: 'uuid',
  date: 'date', time: 'time', timetz: 'time with time zone', timestamp: 'timestamp', timestamptz: 'timestamp with time zone', interval: 'interval',
};

export function castType(cast: string): string {
  const type = CASTS[cast.toLowerCase()];
  if (type === undefined) throw typeNotFound(cast);
  return type;
}

function typeNotFound(cast: string): ApiError {
  // PostgreSQL's own answer to an unknown type name; the list above is all we pass on.
  return restErrors.queryParam(`type "${cast}" does not exist`, `select casts may use: ${Object.keys(CASTS).join(', ')}`);
}

export function resolveField(table: CatalogTable, field: FieldRef): ResolvedField {
  const column = table.columnsByName.get(field.column);
  if (!column) throw restErrors.undefinedColumn(table.name, field.column);
  return { column, jsonPath: field.jsonPath };
}

/** The plan of a read (or of the representation a mutation returns) from the query params. */
export function planRead(catalog: SchemaCatalog, table: CatalogTable, params: QueryParams): ReadNode {
  const byPath = new Map<string, MutableNode>();
  const root = planNode(catalog, table, params.select, [], byPath);
  for (const f of params.filters) nodeAt(byPath, f.path).filterTrees.push(f.value);
  for (const o of params.order) nodeAt(byPath, o.path).orderTerms.push(...o.value);
  for (const l of params.limits) nodeAt(byPath, l.path).limit = l.value;
  for (const o of params.offsets) nodeAt(byPath, o.path).offset = o.value;
  return finish(root);
}

type MutableItem =
  | Extract<PlannedItem, { kind: 'column' }>
  | { readonly kind: 'embed'; readonly name: string; readonly relationship: Relationship; readonly inner: boolean; readonly node: MutableNode };

/** A node while the query params are attached to it by path. */
interface MutableNode {
  readonly table: CatalogTable;
  readonly items: MutableItem[];
  readonly filterTrees: LogicTree[];
  readonly orderTerms: OrderTerm[];
  limit: number | undefined;
  offset: number | undefined;
}

function nodeAt(byPath: Map<string, MutableNode>, path: EmbedPath): MutableNode {
  const node = byPath.get(JSON.stringify(path));
  if (!node) throw restErrors.notEmbedded(path.join('.'));
  return node;
}

function planNode(catalog: SchemaCatalog, table: CatalogTable, select: readonly SelectItem[], path: readonly string[], byPath: Map<string, MutableNode>): MutableNode {
  const node: MutableNode = { table, items: [], filterTrees: [], orderTerms: [], limit: undefined, offset: undefined };
  byPath.set(JSON.stringify(path), node);
  for (const item of select) {
    if (item.kind === 'star') {
      for (const column of table.columns) node.items.push({ kind: 'column', field: { column, jsonPath: [] }, name: column.name });
    } else if (item.kind === 'field') {
      const field = resolveField(table, item.field);
      const cast = item.cast === undefined ? undefined : castType(item.cast);
      node.items.push({ kind: 'column', field, name: outputName(item.field, item.alias), ...(cast !== undefined ? { cast } : {}) });
    } else {
      const { relationship, target } = findRelationship(catalog, table, item.relation, item.hint);
      // Filters, order and limits address an embed by its alias, else by the relation as written.
      const name = item.alias ?? item.relation;
      const child = planNode(catalog, target, item.items, [...path, name], byPath);
      node.items.push({ kind: 'embed', name, relationship, inner: item.inner, node: child });
    }
  }
  return node;
}

/** Children first, so a parent's `rel=is.null` filter can refer to the finished embed. */
function finish(node: MutableNode): ReadNode {
  const embeds = new Map<string, PlannedEmbed>();
  const items = node.items.map((item): PlannedItem => {
    if (item.kind === 'column') return item;
    const embed: PlannedEmbed = { name: item.name, relationship: item.relationship, inner: item.inner, node: finish(item.node) };
    embeds.set(item.name, embed);
    return { kind: 'embed', embed };
  });
  return {
    table: node.table,
    items,
    filters: node.filterTrees.map((tree) => planLogic(node.table, embeds, tree)),
    order: node.orderTerms.map((term) => ({ ...term, field: resolveField(node.table, term.field) })),
    limit: node.limit,
    offset: node.offset,
  };
}

export function planLogic(table: CatalogTable, embeds: ReadonlyMap<string, PlannedEmbed>, tree: LogicTree): PlannedLogic {
  if (tree.kind === 'group') {
    return { kind: 'group', negated: tree.negated, operator: tree.operator, children: tree.children.map((c) => planLogic(table, embeds, c)) };
  }
  return { kind: 'condition', condition: planCondition(table, embeds, tree.condition) };
}

function planCondition(table: CatalogTable, embeds: ReadonlyMap<string, PlannedEmbed>, condition: Condition): PlannedCondition {
  const { field, operation, negated } = condition;
  const embed = field.jsonPath.length === 0 && !table.columnsByName.has(field.column) ? embeds.get(field.column) : undefined;
  if (embed) {
    if (operation.kind !== 'is' || (operation.value !== 'null' && operation.value !== 'not_null')) {
      throw new ApiError(400, 'PGRST120', `Bad operator on the '${field.column}' embedded resource`, { details: 'Only is null or not is null filters are allowed on embedded resources' });
    }
    return { kind: 'embed_null', embed, isNull: (operation.value === 'null') !== negated };
  }
  return { kind: 'field', field: resolveField(table, field), negated, operation };
}

/**
 * The foreign key an embed `relation` follows from `parent`, as PostgREST finds it:
 * `relation` names the other table (either direction), or one of the parent's foreign
 * key columns or constraints; `hint` (a constraint or column name) picks one of several.
 */
export function findRelationship(catalog: SchemaCatalog, parent: CatalogTable, relation: string, hint?: string): { relationship: Relationship; target: CatalogTable } {
  type Candidate = { relationship: Relationship; target: string };
  const candidates: Candidate[] = [];
  const toOne = (fk: ForeignKey): Candidate => ({ target: fk.foreignTable, relationship: { foreignKey: fk, toOne: true, join: fk.columns.map((c, i) => [c, fk.foreignColumns[i]!] as const) } });
  const toMany = (fk: ForeignKey): Candidate => ({ target: fk.table, relationship: { foreignKey: fk, toOne: false, join: fk.foreignColumns.map((c, i) => [c, fk.columns[i]!] as const) } });
  // The columns of a function's OUT/TABLE result belong to no table: nothing references them.
  if (parent.kind === 'function_result') throw restErrors.noRelationship(parent.name, relation, hint);

  if (catalog.tables.has(relation)) {
    for (const fk of catalog.foreignKeys) {
      if (fk.table === parent.name && fk.foreignTable === relation) candidates.push(toOne(fk));
      // A self-reference is both: the parent's own key (to-one) and its children (to-many).
      if (fk.foreignTable === parent.name && fk.table === relation) candidates.push(toMany(fk));
    }
  } else {
    for (const fk of catalog.foreignKeys) {
      if (fk.table !== parent.name) continue;
      if (fk.constraint === relation || (fk.columns.length === 1 && fk.columns[0] === relation)) candidates.push(toOne(fk));
    }
  }
  const matching = hint === undefined ? candidates : candidates.filter(({ relationship: { foreignKey: fk } }) =>
    fk.constraint === hint || fk.columns.includes(hint) || fk.foreignColumns.includes(hint));
  if (matching.length === 0) throw restErrors.noRelationship(parent.name, relation, hint);
  if (matching.length > 1) throw restErrors.ambiguousRelationship(parent.name, relation, matching.map((m) => m.relationship.foreignKey.constraint));
  const found = matching[0]!;
  const target = catalog.tables.get(found.target);
  if (!target) throw restErrors.noRelationship(parent.name, relation, hint);
  return { relationship: found.relationship, target };
}
