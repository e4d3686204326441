// What Composio's v3/v3.1 API answers, as zod schemas (docs/public/openapi.json of
// ComposioHQ/composio, and /work/shared/reference/composio-api.md §3). The client parses
// every 2xx body with one of these; a body that does not fit is a permanent error naming
// the path that failed.
//
// Objects are parsed with z.object, which drops keys not declared here. That is on
// purpose for connected accounts and auth configs: their `state`, `data`, `params` and
// `credentials` carry OAuth tokens and client secrets, which Steward must never store or
// log. JSON Schemas (a tool's parameters) are kept whole with z.looseObject: the catalog
// sync and drift detection need every keyword.
import { z } from 'zod';

const jsonObject = z.record(z.string(), z.unknown());

/** A JSON Schema as Composio writes tool parameters: an object schema, every keyword kept. */
export const jsonSchemaObject = z.looseObject({
  type: z.string().optional(),
  properties: z.record(z.string(), jsonObject).optional(),
  required: z.array(z.string()).optional(),
});

/** Every list endpoint: opaque cursor paging; `next_cursor` null (or absent) on the last page. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    next_cursor: z.string().nullish().transform((cursor) => cursor ?? null),
    total_pages: z.number().optional(),
    current_page: z.number().optional(),
    total_items: z.number().optional(),
  });
}
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
  total_pages?: number | undefined;
  current_page?: number | undefined;
  total_items?: number | undefined;
}

export const toolSchema = z.object({
  slug: z.string().min(1),
  name: z.string(),
  description: z.string(),
  human_description: z.string().optional(),
  toolkit: z.object({ slug: z.string().min(1), name: z.string(), logo: z.string().optional() }),
  input_parameters: jsonSchemaObject,
  output_parameters: jsonSchemaObject,
  version: z.string().min(1),
  available_versions: z.array(z.string()),
  no_auth: z.boolean(),
  scopes: z.array(z.string()),
  // v3.1 only; null for tools that expose flat scopes alone.
  scope_requirements: jsonObject.nullish(),
  tags: z.array(z.string()),
  is_deprecated: z.boolean(),
});
export type Tool = z.infer<typeof toolSchema>;

const toolkitCategory = z.object({ id: z.string().optional(), slug: z.string().optional(), name: z.string() });
const toolkitMeta = z.object({
  description: z.string(),
  logo: z.string().optional(),
  app_url: z.string().nullish(),
  categories: z.array(toolkitCategory),
  tools_count: z.number(),
  triggers_count: z.number(),
  version: z.string().optional(),
  created_at: z.string().optional(),
  updated_at: z.string().optional(),
});

export const toolkitSchema = z.object({
  slug: z.string().min(1),
  name: z.string(),
  auth_schemes: z.array(z.string()).optional(),
  composio_managed_auth_schemes: z.array(z.string()).optional(),
  no_auth: z.boolean().optional(),
  is_local_toolkit: z.boolean().optional(),
  meta: toolkitMeta,
});
export type Toolkit = z.infer<typeof toolkitSchema>;

export const toolkitDetailSchema = toolkitSchema.extend({
  enabled: z.boolean().optional(),
  base_url: z.string().optional(),
  meta: toolkitMeta.extend({ available_versions: z.array(z.string()).optional() }),
});
export type ToolkitDetail = z.infer<typeof toolkitDetailSchema>;

/** A tool that ran but failed upstream is HTTP 200 with `successful: false` and `error` set. */
export const toolExecutionSchema = z.object({
  data: jsonObject,
  error: z.string().nullable(),
  successful: z.boolean(),
  log_id: z.string().optional(),
});
export type ToolExecution = z.infer<typeof toolExecutionSchema>;

// REVOKED exists from v3.1 on; accepting it under v3 too costs nothing.
export const connectedAccountStatus = z.enum(['INITIALIZING', 'INITIATED', 'ACTIVE', 'FAILED', 'EXPIRED', 'INACTIVE', 'REVOKED']);
export type ConnectedAccountStatus = z.infer<typeof connectedAccountStatus>;

export const connectedAccountSchema = z.object({
  id: z.string().min(1),
  user_id: z.string(),
  status: connectedAccountStatus,
  status_reason: z.string().nullish().transform((reason) => reason ?? null),
  is_disabled: z.boolean(),
  toolkit: z.object({ slug: z.string().min(1) }),
  auth_config: z.object({
    id: z.string().min(1),
    auth_scheme: z.string(),
    is_composio_managed: z.boolean(),
    is_disabled: z.boolean(),
  }),
  created_at: z.string(),
  updated_at: z.string(),
});
export type ConnectedAccount = z.infer<typeof connectedAccountSchema>;

/** POST /connected_accounts: the account is INITIATED and the user must open `redirect_url`. */
export const connectionRequestSchema = z.object({
  id: z.string().min(1),
  status: connectedAccountStatus,
  redirect_url: z.string().nullable(),
});
export type ConnectionRequest = z.infer<typeof connectionRequestSchema>;

/** POST /connected_accounts/link: Composio's hosted page (a "Connect Link"), valid ~10 minutes. */
export const connectLinkSchema = z.object({
  link_token: z.string().min(1),
  redirect_url: z.string().min(1),
  expires_at: z.string(),
  connected_account_id: z.string().min(1),
});
export type ConnectLink = z.infer<typeof connectLinkSchema>;

/** POST /connected_accounts/{id}/refresh: re-authentication, `redirect_url` when a user must act. */
export const refreshedAccountSchema = connectionRequestSchema;
export type RefreshedAccount = ConnectionRequest;

// `success: false` with HTTP 200 is not documented; treating it as a response that does
// not match (a permanent error naming `success`) beats reporting a change that did not happen.
export const successSchema = z.object({ success: z.literal(true) });

export const authConfigSchema = z.object({
  id: z.string().min(1),
  type: z.enum(['default', 'custom']),
  name: z.string(),
  toolkit: z.object({ slug: z.string().min(1) }),
  auth_scheme: z.string().optional(),
  is_composio_managed: z.boolean().optional(),
  status: z.enum(['ENABLED', 'DISABLED']),
  no_of_connections: z.number(),
});
export type AuthConfig = z.infer<typeof authConfigSchema>;

export const createdAuthConfigSchema = z.object({
  toolkit: z.object({ slug: z.string().min(1) }),
  auth_config: z.object({ id: z.string().min(1), auth_scheme: z.string(), is_composio_managed: z.boolean() }),
});
export type CreatedAuthConfig = z.infer<typeof createdAuthConfigSchema>;

/** What the client keeps of an error body, whatever form it came in. */
export interface ProviderError {
  message: string;
  code?: number | undefined;
  slug?: string | undefined;
  request_id?: string | undefined;
  errors?: string[] | undefined;
}

/**
 * An error body. The spec's envelope `{error: {message, code, slug, status, …}}`, the flat
 * `{message}` the rate-limit docs show for a 429, or `{error: "…"}` from a proxy in front.
 */
export const errorBodySchema = z.union([
  z.object({
    error: z.object({
      message: z.string(),
      code: z.number().optional(),
      slug: z.string().optional(),
      status: z.number().optional(),
      request_id: z.string().optional(),
      suggested_fix: z.string().optional(),
      errors: z.array(z.string()).optional(),
    }),
  }).transform(({ error }): ProviderError => error),
  z.object({ error: z.string() }).transform(({ error }): ProviderError => ({ message: error })),
  z.object({ message: z.string(), code: z.number().optional() }).transform((flat): ProviderError => flat),
]);
