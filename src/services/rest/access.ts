import { createClient, type SupabaseClient } from '@supabase/supabase-js';

/**
 * Whose rights a REST-backed service acts with: a supabase-js client whose key is the
 * service-role key (service) or whose bearer token is a tenant's JWT (tenant). RLS on the
 * server decides, exactly as for the SQL services' Access.
 */
export interface RestAccess {
  readonly kind: 'service' | 'tenant';
  readonly client: SupabaseClient;
}

const CLIENT_OPTIONS = { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } } as const;

/** The service role: supabase-js with the project's service-role key. */
export function restServiceAccess(url: string, serviceRoleKey: string): RestAccess {
  return { kind: 'service', client: createClient(url, serviceRoleKey, CLIENT_OPTIONS) as SupabaseClient };
}

/**
 * A tenant: supabase-js with the anon key as `apikey` and the tenant's JWT as bearer
 * (`token` is asked for before every request, so it may mint or refresh).
 */
export function restTenantAccess(url: string, anonKey: string, token: string | (() => Promise<string>)): RestAccess {
  const accessToken = typeof token === 'string' ? () => Promise.resolve(token) : token;
  return { kind: 'tenant', client: createClient(url, anonKey, { ...CLIENT_OPTIONS, accessToken }) as SupabaseClient };
}
