import type { Database } from '../db/database.ts';
import type { TenantClaims } from '../db/tenant-context.ts';
import type { Transaction } from '../db/types.ts';

/**
 * Whose rights a service acts with. SQL services never open transactions themselves:
 * they ask their Access, which is either the service role or a tenant's claims, so
 * the same service code is scoped by the database's RLS policies.
 */
export interface Access {
  readonly kind: 'service' | 'tenant';
  run<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
}

export function serviceAccess(db: Database): Access {
  return { kind: 'service', run: (fn) => db.asService(fn) };
}

export function tenantAccess(db: Database, claims: TenantClaims): Access {
  return { kind: 'tenant', run: (fn) => db.asTenant(claims, fn) };
}
