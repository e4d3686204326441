// Scripted failures: which requests a fault applies to, and what the fake answers
// instead. Faults are plain JSON so the admin endpoint (POST /_fake/faults) can take
// the same objects as inject() from another process.

export type RouteName =
  | 'tools.list' | 'tools.get' | 'tools.execute'
  | 'toolkits.list' | 'toolkits.get' | 'toolkits.categories'
  | 'connected_accounts.list' | 'connected_accounts.get' | 'connected_accounts.create' | 'connected_accounts.link'
  | 'connected_accounts.status' | 'connected_accounts.refresh' | 'connected_accounts.delete'
  | 'auth_configs.list' | 'auth_configs.get' | 'auth_configs.create' | 'auth_configs.update' | 'auth_configs.status' | 'auth_configs.delete';

export type FaultType =
  | '5xx' | '429' | '400' | '401' | '403' | '404' | '409' | '410' | '422'
  | 'slow' | 'hang' | 'reset' | 'invalid_json' | 'malformed' | 'tool_error';

export interface Fault {
  type: FaultType;
  /** For '5xx': 500, 502, 503 (default) or 504. */
  status?: 500 | 502 | 503 | 504;
  /** `Retry-After: <seconds>`; 429 sends 60 unless a Retry-After form is given. */
  retryAfterSeconds?: number;
  /** `Retry-After: <HTTP-date>`, written as given. */
  retryAfterHttpDate?: string;
  /** `retry-after-ms: <ms>`, as Composio's generated clients read. */
  retryAfterMs?: number;
  /** `x-should-retry: true|false`. */
  shouldRetry?: boolean;
  /**
   * The error body: `envelope` ({error: {...}}, the default except for 429), `flat`
   * ({message}, the default for 429, as Composio's rate-limit docs show) or `html` (a
   * proxy's error page).
   */
  body?: 'envelope' | 'flat' | 'html';
  message?: string;
  code?: number;
  /** 'slow': wait this long, then answer normally. Other faults: wait, then fail. */
  delayMs?: number;
  /**
   * tools.execute only: run the tool (recorded in `executions`) before failing, hanging
   * or resetting, as when a provider acted and the answer was lost.
   */
  applyEffect?: boolean;
  /**
   * 'malformed': the normal answer with these changes (a dotted path, `items.0.slug`);
   * without any, the whole body is replaced by `{"unexpected": true}`.
   */
  corrupt?: { path: string; value?: unknown; remove?: boolean }[];
}

export interface FaultRule {
  /** Only requests about this tool (GET /tools/{slug}, POST /tools/execute/{slug}). */
  tool?: string;
  /** Only this route. Neither `tool` nor `route`: every API request. */
  route?: RouteName;
  /** Let this many matching requests through first (fail the Nth call: skip N-1). */
  skip?: number;
  /** Apply to this many matching requests, then retire; default: until cleared. */
  times?: number;
  fault: Fault;
}

export interface ActiveFault extends FaultRule {
  id: string;
  /** Matching requests seen so far, skipped ones included. */
  seen: number;
  /** Requests the fault was applied to. */
  applied: number;
}

const FAULT_TYPES = new Set<FaultType>(['5xx', '429', '400', '401', '403', '404', '409', '410', '422', 'slow', 'hang', 'reset', 'invalid_json', 'malformed', 'tool_error']);

/** The rules, in the order given; the first one that matches a request decides. */
export class FaultBook {
  readonly #rules: ActiveFault[] = [];
  #nextId = 1;

  add(rule: FaultRule): string {
    if (!FAULT_TYPES.has(rule.fault.type)) throw new Error(`unknown fault type ${String(rule.fault.type)}`);
    const id = `fault_${this.#nextId++}`;
    this.#rules.push({ ...rule, fault: { ...rule.fault }, id, seen: 0, applied: 0 });
    return id;
  }

  remove(id: string): boolean {
    const index = this.#rules.findIndex((r) => r.id === id);
    if (index >= 0) this.#rules.splice(index, 1);
    return index >= 0;
  }

  clear(): void {
    this.#rules.length = 0;
  }

  list(): readonly ActiveFault[] {
    return this.#rules;
  }

  /** The fault for this request, counting it against the rule's skip and times. */
  take(route: RouteName, tool: string | undefined): Fault | undefined {
    for (const rule of this.#rules) {
      if (rule.route !== undefined && rule.route !== route) continue;
      if (rule.tool !== undefined && rule.tool !== tool) continue;
      rule.seen += 1;
      if (rule.seen <= (rule.skip ?? 0)) continue;
      rule.applied += 1;
      if (rule.times !== undefined && rule.applied >= rule.times) this.remove(rule.id);
      return rule.fault;
    }
    return undefined;
  }
}

/** `body` with each change of `corrupt` applied, or `{unexpected: true}` for none. */
export function corruptBody(body: unknown, corrupt: Fault['corrupt']): unknown {
  if (!corrupt || corrupt.length === 0) return { unexpected: true };
  const copy = structuredClone(body) as Record<string, unknown>;
  for (const change of corrupt) {
    const keys = change.path.split('.');
    const last = keys.pop()!;
    let target: unknown = copy;
    for (const key of keys) target = (target as Record<string, unknown> | undefined)?.[key];
    if (typeof target !== 'object' || target === null) throw new Error(`corrupt: nothing at ${change.path}`);
    if (change.remove) delete (target as Record<string, unknown>)[last];
    else (target as Record<string, unknown>)[last] = change.value;
  }
  return copy;
}
