import type { ServiceSet } from '../service-set.ts';
import type { RestAccess } from './access.ts';
import { RestAuditLogger } from './audit-logger.ts';
import { RestCatalogService } from './catalog-service.ts';
import { RestConnectedAccountService } from './connected-account-service.ts';
import { RestGuardrailService } from './guardrail-service.ts';
import { RestObjectivesService } from './objectives-service.ts';
import { RestOutboxService } from './outbox-service.ts';
import { RestTenantService } from './tenant-service.ts';

export { restServiceAccess, restTenantAccess, type RestAccess } from './access.ts';

/** The REST implementations (supabase-js against PostgREST or Steward's server). */
export function restServices(access: RestAccess): ServiceSet {
  return {
    tenants: new RestTenantService(access),
    objectives: new RestObjectivesService(access),
    guardrails: new RestGuardrailService(access),
    accounts: new RestConnectedAccountService(access),
    catalog: new RestCatalogService(access),
    audit: new RestAuditLogger(access),
    outbox: new RestOutboxService(access),
  };
}
