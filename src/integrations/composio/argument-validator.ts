// An envelope's arguments checked against its tool's JSON Schema (tool_catalog.schema)
// before Composio is called, so a malformed envelope never reaches the provider.
//
// Compiling a schema costs far more than running it, so each (tenant, tool, version) is
// compiled once and kept (least recently used first out). The entry's revision (its
// updated_at) is part of the key: a catalog sync that rewrites a version's schema in
// place gets a fresh compile instead of the stale validator.
//
// Settings, and why:
// - strict: false — Composio's schemas carry keywords JSON Schema does not define
//   (`nullable`, `file_uploadable`, …); they are annotations, not reasons to refuse a tool;
// - validateFormats: false — without ajv-formats every `format` is unknown; Steward checks
//   the structure (types, required, enums, bounds) and leaves formats to the provider;
// - addUsedSchema: false, and removeSchema after compiling — schemas of many tenants share
//   one Ajv: an `$id` must not register globally (two tenants' equal ids would clash) and
//   Ajv's own cache must not grow with every schema compiled;
// - `$schema` is dropped: Ajv refuses a dialect it has not loaded, and the catalog's
//   schemas are draft-07-compatible whatever they claim.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

export interface SchemaKey {
  tenantId: string;
  toolSlug: string;
  version: string;
  /** Changes whenever the stored schema may have: tool_catalog.updated_at in ms. */
  revision: number;
}

export interface ArgumentProblem {
  /** Where in the arguments: `arguments`, `arguments.to`, `arguments.cc[0]`. */
  path: string;
  message: string;
}

export type ArgumentCheck =
  | { ok: true }
  | { ok: false; problems: ArgumentProblem[] }
  /** The stored schema itself is not valid JSON Schema: nothing can be checked against it. */
  | { ok: false; schemaError: string };

const DEFAULT_CACHE_SIZE = 1000;
// A person reads these in last_error; the first few say what is wrong.
const MAX_PROBLEMS = 5;

export class ArgumentValidator {
  readonly #ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, addUsedSchema: false });
  readonly #cache = new Map<string, ValidateFunction | string>();
  readonly #maxEntries: number;
  /** Schemas compiled so far (for tests and metrics). */
  compiled = 0;

  constructor(options: { maxEntries?: number } = {}) {
    this.#maxEntries = options.maxEntries ?? DEFAULT_CACHE_SIZE;
  }

  check(key: SchemaKey, schema: Record<string, unknown>, args: Record<string, unknown>): ArgumentCheck {
    const validate = this.#validatorFor(key, schema);
    if (typeof validate === 'string') return { ok: false, schemaError: validate };
    if (validate(args)) return { ok: true };
    return { ok: false, problems: (validate.errors ?? []).slice(0, MAX_PROBLEMS).map(describe) };
  }

  #validatorFor(key: SchemaKey, schema: Record<string, unknown>): ValidateFunction | string {
    const cacheKey = JSON.stringify([key.tenantId, key.toolSlug, key.version, key.revision]);
    const cached = this.#cache.get(cacheKey);
    if (cached !== undefined) {
      this.#cache.delete(cacheKey); // re-insert: most recently used last
      this.#cache.set(cacheKey, cached);
      return cached;
    }
    const compiled = this.#compile(schema);
    this.#cache.set(cacheKey, compiled);
    if (this.#cache.size > this.#maxEntries) this.#cache.delete(this.#cache.keys().next().value!);
    return compiled;
  }

  /** The validator, or why the schema does not compile (kept too: it will not compile next time either). */
  #compile(schema: Record<string, unknown>): ValidateFunction | string {
    const { $schema: _dialect, ...rest } = schema;
    this.compiled += 1;
    try {
      return this.#ajv.compile(rest);
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    } finally {
      this.#ajv.removeSchema(rest);
    }
  }
}

/** `must have required property 'to'` at `` → `arguments.to` is required. */
function describe(error: ErrorObject): ArgumentProblem {
  const path = `arguments${pointerToPath(error.instancePath)}`;
  const params = error.params as { missingProperty?: unknown; additionalProperty?: unknown; allowedValues?: unknown };
  if (error.keyword === 'required' && typeof params.missingProperty === 'string') {
    return { path: `${path}${propertyPath(params.missingProperty)}`, message: 'is required' };
  }
  if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    return { path: `${path}${propertyPath(params.additionalProperty)}`, message: 'is not allowed by the schema' };
  }
  if (error.keyword === 'enum' && Array.isArray(params.allowedValues)) {
    return { path, message: `must be one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}` };
  }
  return { path, message: error.message ?? `fails ${error.keyword}` };
}

/** A JSON Pointer (`/cc/0`, `/a~1b`) as a path: `.cc[0]`, `["a/b"]`. */
function pointerToPath(pointer: string): string {
  if (pointer === '') return '';
  return pointer.slice(1).split('/').map((raw) => {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    return /^\d+$/.test(segment) ? `[${segment}]` : propertyPath(segment);
  }).join('');
}

function propertyPath(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}
