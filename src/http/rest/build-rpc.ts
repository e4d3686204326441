import { newStatement, wrapRows, type Statement } from './build-read.ts';
import type { CatalogFunction, FunctionParam, SchemaCatalog } from './catalog.ts';
import { restErrors } from './errors.ts';
import type { ReadNode } from './read-plan.ts';
import { qualified, quoteIdent } from './sql.ts';

// `POST /rpc/fn {"a":1}` and `GET /rpc/fn?a=1`: a function of the exposed schema, called
// with named arguments. The arguments travel as one JSON parameter typed by the
// function's own parameter types (json_to_record), as PostgREST does it.

export interface ChosenFunction {
  readonly fn: CatalogFunction;
  /** The function's one unnamed json/jsonb parameter receives the whole body. */
  readonly wholeBody: boolean;
}

/**
 * The overload whose parameters the argument names fit: every given name is a
 * parameter, every parameter without a default is given. Failing that (POST only), a
 * function with a single unnamed json/jsonb parameter takes the body as it is.
 */
export function chooseFunction(catalog: SchemaCatalog, name: string, given: readonly string[], options: { post: boolean }): ChosenFunction {
  const candidates = catalog.functions.get(name) ?? [];
  const names = new Set(given);
  const fits = candidates.filter((fn) =>
    fn.params.every((p) => p.name !== '')
    && given.every((g) => fn.params.some((p) => p.name === g))
    && fn.params.every((p) => p.hasDefault || names.has(p.name)));
  if (fits.length === 1) return { fn: fits[0]!, wholeBody: false };
  if (fits.length > 1) throw restErrors.ambiguousFunction(name);
  if (options.post) {
    const bodyTaking = candidates.filter((fn) => fn.params.length === 1 && fn.params[0]!.name === '' && isJson(fn.params[0]!));
    if (bodyTaking.length === 1) return { fn: bodyTaking[0]!, wholeBody: true };
  }
  throw restErrors.noFunction(name, given);
}

function isJson(param: FunctionParam): boolean {
  return param.typeName === 'json' || param.typeName === 'jsonb';
}

export interface RpcPlan {
  readonly chosen: ChosenFunction;
  /** Argument values by parameter name (strings from a query string, any JSON from a body), or the whole body. */
  readonly args: unknown;
}

/** How the result is shaped: rows of a table-like result, a scalar, or nothing. */
export type RpcResult =
  | { readonly kind: 'rows'; readonly node: ReadNode; readonly count: boolean; readonly stripNulls: boolean }
  | { readonly kind: 'scalar'; readonly stripNulls: boolean }
  | { readonly kind: 'void' };

/**
 * One statement whose row has `total`, `page_total` and `body` (absent for void). A
 * non-set function's single value or row comes back as a one-element array; the caller
 * unwraps it.
 */
export function buildRpc(plan: RpcPlan, result: RpcResult): Statement {
  const ctx = newStatement();
  const { fn } = plan.chosen;
  let from = '';
  let call: string;
  if (plan.chosen.wholeBody) {
    call = `${qualified(fn.name)}(${ctx.params.add(JSON.stringify(plan.args))}::${fn.params[0]!.type})`;
  } else {
    const args = plan.args as Record<string, unknown>;
    const used = fn.params.filter((p) => Object.hasOwn(args, p.name));
    if (used.length > 0) {
      const record = ctx.aliases.next();
      const values = Object.fromEntries(used.map((p) => [p.name, args[p.name]]));
      from = `json_to_record(${ctx.params.add(JSON.stringify(values))}::json) as ${record}(${used.map((p) => `${quoteIdent(p.name)} ${p.type}`).join(', ')})`;
      call = `${qualified(fn.name)}(${used.map((p) => `${quoteIdent(p.name)} := ${record}.${quoteIdent(p.name)}`).join(', ')})`;
    } else {
      call = `${qualified(fn.name)}()`;
    }
  }
  const alias = ctx.aliases.next();
  switch (result.kind) {
    case 'void':
      return { text: `select ${call}${from ? ` from ${from}` : ''}`, values: ctx.params.values };
    case 'scalar': {
      const strip = (json: string): string => (result.stripNulls ? `json_strip_nulls(${json})` : json);
      if (!fn.returnsSet) {
        return { text: `select null::bigint as total, 1::bigint as page_total, ${strip(`json_build_array(${call})`)}::text as body${from ? ` from ${from}` : ''}`, values: ctx.params.values };
      }
      const source = from ? `${from} cross join lateral ${call} as ${alias}(value)` : `${call} as ${alias}(value)`;
      return { text: `select null::bigint as total, count(*)::bigint as page_total, ${strip(`coalesce(json_agg(${alias}.value), '[]'::json)`)}::text as body from ${source}`, values: ctx.params.values };
    }
    case 'rows': {
      const source = from ? `${from} cross join lateral ${call} as ${alias}` : `${call} as ${alias}`;
      return wrapRows(ctx, result.node, alias, source, { count: result.count, stripNulls: result.stripNulls });
    }
  }
}
