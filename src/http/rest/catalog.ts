import type { Queryable } from '../../db/types.ts';

// The REST surface is derived from the database's own catalog, as PostgREST's schema
// cache is: tables and views, their columns and types, primary and foreign keys, and the
// functions of the exposed schema. Every identifier that reaches SQL is one of the names
// recorded here, never text from a request.

export const EXPOSED_SCHEMA = 'public';

export interface CatalogColumn {
  readonly name: string;
  /** format_type(): the SQL spelling of the type, usable in casts (`character varying(20)`, `text[]`). */
  readonly type: string;
  /** pg_type.typname: `int4`, `_text`, `tsvector`, `jsonb`… */
  readonly typeName: string;
  readonly nullable: boolean;
  /** pg_get_expr of the column default: the database's own SQL, used for `Prefer: missing=default`. */
  readonly defaultExpr: string | null;
  /** Generated or identity-always columns cannot be written. */
  readonly generated: boolean;
}

export interface CatalogTable {
  readonly name: string;
  readonly kind: 'table' | 'view' | 'function_result';
  readonly columns: readonly CatalogColumn[];
  readonly columnsByName: ReadonlyMap<string, CatalogColumn>;
  readonly primaryKey: readonly string[];
}

/** A foreign key of `table` (columns) referencing `foreignTable` (foreignColumns): many-to-one from `table`. */
export interface ForeignKey {
  readonly constraint: string;
  readonly table: string;
  readonly columns: readonly string[];
  readonly foreignTable: string;
  readonly foreignColumns: readonly string[];
}

export interface FunctionParam {
  /** '' for an unnamed parameter. */
  readonly name: string;
  readonly type: string;
  readonly typeName: string;
  readonly hasDefault: boolean;
}

export interface CatalogFunction {
  readonly name: string;
  /** The input parameters (IN, INOUT, VARIADIC), in order. */
  readonly params: readonly FunctionParam[];
  readonly volatility: 'immutable' | 'stable' | 'volatile';
  readonly returnsSet: boolean;
  readonly returnsVoid: boolean;
  /** The SQL spelling of the return type. */
  readonly returnType: string;
  /** Set when the result has named columns (a table's row type, a composite type, OUT/TABLE parameters). */
  readonly resultTable: CatalogTable | undefined;
}

export interface SchemaCatalog {
  readonly tables: ReadonlyMap<string, CatalogTable>;
  readonly foreignKeys: readonly ForeignKey[];
  readonly functions: ReadonlyMap<string, readonly CatalogFunction[]>;
  readonly loadedAt: Date;
}

interface RawColumn { name: string; type: string; typname: string; nullable: boolean; default: string | null; generated: boolean }
interface RawTable { name: string; kind: string; columns: RawColumn[]; pk: string[] | null }
interface RawParam { name: string; type: string; typname: string; mode: string }
interface RawFunction {
  name: string; volatility: string; returns_set: boolean; return_type: string; return_typname: string;
  return_table: string | null; return_columns: RawColumn[] | null; args: RawParam[]; n_defaults: number;
}
interface RawCatalog { tables: RawTable[] | null; fks: ForeignKey[] | null; functions: RawFunction[] | null }

// One statement, one JSON document: both drivers return text alike, whatever array and
// name types they would otherwise decode differently.
const CATALOG_SQL = `
with cols as (
  select a.attrelid, json_agg(json_build_object(
           'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'typname', t.typname,
           'nullable', not a.attnotnull, 'default', pg_get_expr(d.adbin, d.adrelid),
           'generated', a.attgenerated = 's' or a.attidentity = 'a') order by a.attnum) as columns
    from pg_attribute a
    join pg_type t on t.oid = a.atttypid
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
   where a.attnum > 0 and not a.attisdropped
   group by a.attrelid
)
select json_build_object(
  'tables', (
    select json_agg(json_build_object(
             'name', c.relname,
             'kind', case when c.relkind in ('v', 'm') then 'view' else 'table' end,
             'columns', coalesce(cols.columns, '[]'::json),
             'pk', (select json_agg(a.attname order by k.ord)
                      from pg_constraint con
                      cross join lateral unnest(con.conkey) with ordinality as k(attnum, ord)
                      join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum
                     where con.conrelid = c.oid and con.contype = 'p')))
      from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      left join cols on cols.attrelid = c.oid
     where n.nspname = $1 and c.relkind in ('r', 'p', 'v', 'm', 'f')),
  'fks', (
    select json_agg(json_build_object(
             'constraint', con.conname, 'table', c.relname, 'foreignTable', fc.relname,
             'columns', (select json_agg(a.attname order by k.ord)
                           from unnest(con.conkey) with ordinality as k(attnum, ord)
                           join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum),
             'foreignColumns', (select json_agg(a.attname order by k.ord)
                                  from unnest(con.confkey) with ordinality as k(attnum, ord)
                                  join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum))
           order by con.conname)
      from pg_constraint con
      join pg_class c on c.oid = con.conrelid
      join pg_namespace n on n.oid = c.relnamespace
      join pg_class fc on fc.oid = con.confrelid
      join pg_namespace fn on fn.oid = fc.relnamespace
     where con.contype = 'f' and n.nspname = $1 and fn.nspname = $1),
  'functions', (
    select json_agg(json_build_object(
             'name', p.proname,
             'volatility', case p.provolatile when 'i' then 'immutable' when 's' then 'stable' else 'volatile' end,
             'returns_set', p.proretset,
             'return_type', format_type(p.prorettype, null),
             'return_typname', rt.typname,
             'return_table', case when rc.relkind in ('r', 'p', 'v', 'm', 'f') and rn.nspname = $1 then rc.relname end,
             'return_columns', case when rt.typtype = 'c' then rcols.columns end,
             'n_defaults', p.pronargdefaults,
             'args', (select coalesce(json_agg(json_build_object(
                               'name', coalesce(p.proargnames[k.ord], ''), 'type', format_type(k.typ, null),
                               'typname', at.typname, 'mode', coalesce(p.proargmodes[k.ord]::text, 'i')) order by k.ord), '[]'::json)
                        from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality as k(typ, ord)
                        join pg_type at on at.oid = k.typ)))
      from pg_proc p
      join pg_namespace n on n.oid = p.pronamespace
      join pg_type rt on rt.oid = p.prorettype
      left join pg_class rc on rc.oid = rt.typrelid
      left join pg_namespace rn on rn.oid = rc.relnamespace
      left join cols rcols on rcols.attrelid = rt.typrelid
     where n.nspname = $1 and p.prokind = 'f'
       and rt.typname not in ('trigger', 'event_trigger'))
)::text as catalog`;

/** Reads the exposed schema's catalog (any role may: it is pg_catalog). */
export async function loadCatalog(q: Queryable): Promise<SchemaCatalog> {
  const res = await q.query<{ catalog: string }>(CATALOG_SQL, [EXPOSED_SCHEMA]);
  const raw = JSON.parse(res.rows[0]?.catalog ?? '{}') as RawCatalog;
  const tables = new Map<string, CatalogTable>();
  for (const t of raw.tables ?? []) tables.set(t.name, makeTable(t.name, t.kind === 'view' ? 'view' : 'table', t.columns, t.pk ?? []));
  const functions = new Map<string, CatalogFunction[]>();
  for (const f of raw.functions ?? []) {
    const fn = makeFunction(f, tables);
    functions.set(fn.name, [...(functions.get(fn.name) ?? []), fn]);
  }
  return { tables, foreignKeys: raw.fks ?? [], functions, loadedAt: new Date() };
}

function makeTable(name: string, kind: CatalogTable['kind'], raw: readonly RawColumn[], primaryKey: readonly string[]): CatalogTable {
  const columns = raw.map((c): CatalogColumn => ({
    name: c.name, type: c.type, typeName: c.typname, nullable: c.nullable, defaultExpr: c.default, generated: c.generated,
  }));
  return { name, kind, columns, columnsByName: new Map(columns.map((c) => [c.name, c])), primaryKey };
}

function makeFunction(f: RawFunction, tables: ReadonlyMap<string, CatalogTable>): CatalogFunction {
  const inputs = f.args.filter((a) => a.mode === 'i' || a.mode === 'b' || a.mode === 'v');
  const outputs = f.args.filter((a) => a.mode === 'o' || a.mode === 'b' || a.mode === 't');
  const firstDefault = inputs.length - f.n_defaults;
  const params = inputs.map((a, i): FunctionParam => ({ name: a.name, type: a.type, typeName: a.typname, hasDefault: i >= firstDefault }));
  let resultTable: CatalogTable | undefined;
  if (f.return_table !== null) resultTable = tables.get(f.return_table);
  if (!resultTable && f.return_columns) resultTable = makeTable(f.name, 'function_result', f.return_columns, []);
  // OUT/TABLE parameters describe a `record` result; one OUT parameter is a scalar.
  if (!resultTable && f.return_typname === 'record' && outputs.length > 1) {
    resultTable = makeTable(f.name, 'function_result', outputs.map((o) => ({ name: o.name, type: o.type, typname: o.typname, nullable: true, default: null, generated: false })), []);
  }
  return {
    name: f.name,
    params,
    volatility: f.volatility === 'immutable' ? 'immutable' : f.volatility === 'stable' ? 'stable' : 'volatile',
    returnsSet: f.returns_set,
    returnsVoid: f.return_typname === 'void',
    returnType: f.return_type,
    resultTable,
  };
}
