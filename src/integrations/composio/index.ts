// The Composio integration's public surface: import from here, not from its files.
export { ComposioClient } from './client.ts';
export { ComposioError, kindOfStatus, type ComposioErrorKind, type ComposioFailure } from './errors.ts';
export { paginate } from './pagination.ts';
export { parseRetryAfter } from './retry-after.ts';
export * from './schemas.ts';
export type * from './types.ts';
