import { z } from 'zod';
import { StewardError } from '../errors.ts';
import type { Transaction } from './types.ts';

/**
 * JWT claims of a tenant-facing caller, as Supabase/PostgREST would put them in
 * `request.jwt.claims`. `role` is `authenticated` (a tenant's user or operator) or
 * `anon`; the service role is reached only through `asService`.
 */
export const tenantClaimsSchema = z
  .object({
    role: z.enum(['authenticated', 'anon']).default('authenticated'),
    tenant_id: z.string().optional(),
    sub: z.string().optional(),
    scopes: z.array(z.string()).optional(),
  })
  .catchall(z.unknown());

export type TenantClaims = z.input<typeof tenantClaimsSchema>;

export type RequestRole = 'anon' | 'authenticated' | 'service_role';

// One round trip, every value bound, everything transaction-local (`true`): the
// context ends with the transaction and cannot leak to the next user of the session.
const SET_CONTEXT = `select set_config('search_path', 'public, extensions', true),
  set_config('role', $1, true),
  set_config('request.jwt.claims', $2, true)`;

/**
 * The service role's context as one constant script (its claims never vary), so a
 * driver can send it with BEGIN: one round trip fewer for every worker transaction.
 */
export const SERVICE_CONTEXT_PRELUDE = `select set_config('search_path', 'public, extensions', true),
  set_config('role', 'service_role', true),
  set_config('request.jwt.claims', '{"role":"service_role"}', true)`;

export async function setRequestContext(tx: Transaction, role: RequestRole, claims: Record<string, unknown>): Promise<void> {
  await tx.query(SET_CONTEXT, [role, JSON.stringify({ ...claims, role })]);
}

export function parseTenantClaims(claims: TenantClaims): z.output<typeof tenantClaimsSchema> {
  if ((claims as { role?: unknown }).role === 'service_role') {
    throw new StewardError('forbidden', 'asTenant cannot take role service_role; use asService', { field: 'role' });
  }
  const parsed = tenantClaimsSchema.safeParse(claims);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StewardError('invalid_input', `claims: ${issue?.message ?? 'invalid'}`, { field: issue?.path.join('.') || 'claims' });
  }
  return parsed.data;
}
