// Everything the fake remembers between requests, and what tests read back: the
// requests it received and the tool executions it performed.
import { seedAccounts, seedAuthConfigs, type FakeAccount, type FakeAuthConfig } from './accounts.ts';
import { BASE_VERSION, syntheticTools, TOOLKIT_VERSIONS, TOOLKITS, TOOLS, type CatalogVersion, type FakeTool } from './catalog.ts';
import { FaultBook, type FaultType, type RouteName } from './faults.ts';

export type ApiVersion = 'v3' | 'v3.1';

export interface RecordedRequest {
  /** 1, 2, … in arrival order since the last reset. */
  seq: number;
  at: Date;
  method: string;
  /** Under the API prefix, without the query: `/tools/execute/GMAIL_SEND_EMAIL`. */
  path: string;
  apiVersion: ApiVersion;
  /** Undefined for a path the fake does not serve. */
  route: RouteName | undefined;
  tool: string | undefined;
  query: Record<string, string[]>;
  /** Lower-cased names. `x-api-key` is replaced by `[valid]` or `[invalid]`, never kept. */
  headers: Record<string, string>;
  /** Parsed JSON, the raw text when it is not JSON, undefined without a body. */
  body: unknown;
  /** The status answered; undefined while pending, or for a hang or reset. */
  status: number | undefined;
  fault: FaultType | undefined;
}

/** One tool run: its side effect happened (whatever the caller later heard). */
export interface ExecutionRecord {
  seq: number;
  at: Date;
  tool: string;
  version: string;
  arguments: Record<string, unknown>;
  connectedAccountId: string | undefined;
  userId: string | undefined;
  idempotencyKey: string | undefined;
  successful: boolean;
  logId: string;
}

export interface FakeStateOptions {
  /** What execute answers for an EXPIRED or REVOKED account: 410 (default) or 422. */
  expiredAccountStatus?: 410 | 422;
}

export class FakeState {
  catalogVersion: CatalogVersion = 1;
  accounts: Map<string, FakeAccount> = seedAccounts();
  authConfigs: Map<string, FakeAuthConfig> = seedAuthConfigs();
  /** Connect-link tokens → the account they complete. */
  readonly links = new Map<string, string>();
  readonly requests: RecordedRequest[] = [];
  readonly executions: ExecutionRecord[] = [];
  readonly faults = new FaultBook();
  expiredAccountStatus: 410 | 422;
  readonly #options: FakeStateOptions;
  /** The catalog: TOOLS plus `syntheticPerToolkit` generated tools per toolkit. */
  #tools: FakeTool[] = TOOLS;
  #syntheticKey = JSON.stringify(TOOLKITS.map(() => 0));

  constructor(options: FakeStateOptions = {}) {
    this.#options = options;
    this.expiredAccountStatus = options.expiredAccountStatus ?? 410;
  }

  /** Back to the start: seed accounts, catalog version 1, no faults, nothing recorded, options as given. */
  reset(): void {
    this.catalogVersion = 1;
    this.expiredAccountStatus = this.#options.expiredAccountStatus ?? 410;
    this.accounts = seedAccounts();
    this.authConfigs = seedAuthConfigs();
    this.links.clear();
    this.requests.length = 0;
    this.executions.length = 0;
    this.faults.clear();
    this.setSyntheticTools(0);
  }

  /** Every tool the fake knows, deprecated ones included. */
  tools(): readonly FakeTool[] {
    return this.#tools;
  }

  /**
   * Adds generated tools (syntheticTools in catalog.ts): `count` to each toolkit, or as
   * many as a map gives per toolkit slug (others get none); 0 removes them all.
   */
  setSyntheticTools(count: number | Readonly<Record<string, number>>): void {
    const perToolkit = typeof count === 'number' ? Object.fromEntries(TOOLKITS.map((t) => [t.slug, count])) : count;
    for (const [toolkit, n] of Object.entries(perToolkit)) {
      if (!TOOLKITS.some((t) => t.slug === toolkit)) throw new Error(`unknown toolkit ${toolkit}`);
      if (!Number.isInteger(n) || n < 0 || n > 5000) throw new Error(`synthetic tools for ${toolkit} must be an integer from 0 to 5000`);
    }
    const key = JSON.stringify(TOOLKITS.map((t) => perToolkit[t.slug] ?? 0));
    if (key === this.#syntheticKey) return;
    this.#syntheticKey = key;
    this.#tools = [...TOOLS, ...TOOLKITS.flatMap((t) => syntheticTools(t.slug, perToolkit[t.slug] ?? 0))];
  }

  /** The versions `toolkit` offers now, oldest first; [] for an unknown toolkit. */
  versionsOf(toolkit: string): string[] {
    return TOOLKIT_VERSIONS[this.catalogVersion][toolkit] ?? [];
  }

  /**
   * The concrete version a request means: `latest`, the base version (the toolkit's
   * first) or a version the toolkit has; undefined when it has no such version. Without
   * a request, v3.1 means latest and v3 the base version, as Composio documents.
   */
  resolveVersion(toolkit: string, requested: string | undefined, apiVersion: ApiVersion): string | undefined {
    const available = this.versionsOf(toolkit);
    const want = requested ?? (apiVersion === 'v3.1' ? 'latest' : BASE_VERSION);
    if (want === 'latest') return available.at(-1);
    if (want === BASE_VERSION) return available[0];
    return available.includes(want) ? want : undefined;
  }

  /** Live accounts (the deleted ones are gone from every read). */
  liveAccount(id: string): FakeAccount | undefined {
    const account = this.accounts.get(id);
    return account && !account.deleted ? account : undefined;
  }

  connectionsOf(authConfigId: string): number {
    return [...this.accounts.values()].filter((a) => !a.deleted && a.authConfigId === authConfigId).length;
  }
}
