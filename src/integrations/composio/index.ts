// The Composio integration's public surface: import from here, not from its files.
export { ComposioClient } from './client.ts';
export { ComposioError, kindOfStatus, type ComposioErrorKind, type ComposioFailure } from './errors.ts';
export { paginate } from './pagination.ts';
export { parseRetryAfter } from './retry-after.ts';
export * from './schemas.ts';
export type * from './types.ts';
export { ConnectedAccountLifecycle, initiateLinkInput, type AccountLifecycleOptions, type InitiateLinkInput, type InitiatedLink, type Reauthorization } from './account-lifecycle.ts';
export { accountRemedy, stewardAccountStatus } from './account-status.ts';
export { ArgumentValidator, type ArgumentCheck, type ArgumentProblem, type SchemaKey } from './argument-validator.ts';
export {
  DEFAULT_PAGE_SIZE, DEFAULT_SYNC_RETRY, syncCatalog, syncToolkit, type CatalogSyncOptions, type CatalogSyncProgress,
  type CatalogSyncReport, type SyncRetryPolicy, type ToolkitSyncFailure, type ToolkitSyncSummary,
} from './catalog-sync.ts';
export { listCatalogDrift, listDriftInput, type CatalogDriftEntry, type ListDriftInput } from './drift-monitor.ts';
export type { SyncCounts } from './sync-checkpoint-queries.ts';
export {
  CATALOG_DRIFT_TOOL, CATALOG_REFRESH_TOOL, catalogSystemHandlers, createCatalogDriftHandler, createCatalogRefreshHandler,
  DEFAULT_REFRESH_BUCKET, enqueueCatalogRefresh, type CatalogDriftResult, type CatalogRefreshOptions, type CatalogRefreshResult,
  type EnqueuedRefresh,
} from './trickle-refresh.ts';
