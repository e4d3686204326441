// The fake Composio's public surface, for tests and for `steward dev fake-composio`.
export { startFakeComposio, type FakeComposio, type FakeComposioOptions } from './server.ts';
export type { Fault, FaultRule, FaultType, RouteName } from './faults.ts';
export type { ExecutionRecord, RecordedRequest } from './state.ts';
export { ACCOUNT_STATUSES, DEMO_TENANT, SECOND_TENANT, type AccountStatus, type FakeAccount } from './accounts.ts';
export { BASE_VERSION, syntheticTools, TOOLKITS, TOOLS, V1, V2, type CatalogVersion, type FakeTool } from './catalog.ts';
