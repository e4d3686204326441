// The two ways request content reaches SQL. Identifiers: only names read from the
// catalog, double-quoted here. Values: only as bound parameters. Nothing else from a
// request is ever spliced into statement text.

/** A catalog name as a quoted SQL identifier. Callers pass names from the catalog, never request text. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The qualified name of a relation or function of the exposed schema. */
export function qualified(name: string): string {
  return `"public".${quoteIdent(name)}`;
}

/** The bound parameters of one statement: add() returns the placeholder for a value. */
export class Params {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** Table aliases of one statement: generated, so no request name is ever an alias. */
export class Aliases {
  #next = 0;

  next(): string {
    return `_pgrst_${this.#next++}`;
  }
}
