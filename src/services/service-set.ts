import type { Access } from './access.ts';
import { SqlAuditLogger, type AuditLogger } from './audit-logger.ts';
import { SqlCatalogService, type CatalogService } from './catalog-service.ts';
import { SqlConnectedAccountService, type ConnectedAccountService } from './connected-account-service.ts';
import { SqlGuardrailService, type GuardrailService } from './guardrail-service.ts';
import { SqlObjectivesService, type ObjectivesService } from './objectives-service.ts';
import { SqlOutboxService, type OutboxService } from './outbox-service.ts';
import { SqlTenantService, type TenantService } from './tenant-service.ts';

/** The services, all acting with one caller's rights, on whichever backend. */
export interface ServiceSet {
  readonly tenants: TenantService;
  readonly objectives: ObjectivesService;
  readonly guardrails: GuardrailService;
  readonly accounts: ConnectedAccountService;
  readonly catalog: CatalogService;
  readonly audit: AuditLogger;
  readonly outbox: OutboxService;
}

/** The SQL implementations over a database Access. */
export function sqlServices(access: Access): ServiceSet {
  return {
    tenants: new SqlTenantService(access),
    objectives: new SqlObjectivesService(access),
    guardrails: new SqlGuardrailService(access),
    accounts: new SqlConnectedAccountService(access),
    catalog: new SqlCatalogService(access),
    audit: new SqlAuditLogger(access),
    outbox: new SqlOutboxService(access),
  };
}
