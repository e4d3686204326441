// Tools and toolkits: list, get, execute; toolkits list, get, categories.
import { Ajv, type ValidateFunction } from 'ajv';
import { inputAt, TOOLKITS, type FakeTool, type JsonSchema } from './catalog.ts';
import type { RouteContext } from './routing.ts';
import type { ApiVersion, FakeState } from './state.ts';
import { badRequest, boolParam, CODES, errorReply, listParam, page, versionsParam, type Reply } from './wire.ts';

// One compiled validator per parameter schema object (each version's schema is one object).
const ajv = new Ajv({ strict: false, allErrors: true });
const validators = new WeakMap<JsonSchema, ValidateFunction>();
function validatorFor(schema: JsonSchema): ValidateFunction {
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    validators.set(schema, validate);
  }
  return validate;
}

const toolkitOf = (slug: string) => TOOLKITS.find((t) => t.slug === slug)!;

function toolWire(tool: FakeTool, version: string, state: FakeState, apiVersion: ApiVersion): Record<string, unknown> {
  const toolkit = toolkitOf(tool.toolkit);
  const available = state.versionsOf(tool.toolkit).filter((v) => inputAt(tool, v) !== undefined);
  const wire: Record<string, unknown> = {
    slug: tool.slug,
    name: tool.name,
    description: tool.description,
    human_description: tool.description,
    toolkit: { slug: toolkit.slug, name: toolkit.name, logo: toolkit.logo },
    input_parameters: inputAt(tool, version),
    output_parameters: tool.output,
    version,
    available_versions: available,
    no_auth: false,
    scopes: tool.scopes,
    tags: tool.tags,
    is_deprecated: tool.deprecated ?? false,
    deprecated: { displayName: tool.name, version, available_versions: available, is_deprecated: tool.deprecated ?? false, toolkit: { logo: toolkit.logo } },
  };
  if (apiVersion === 'v3.1') wire['scope_requirements'] = tool.scopes.length > 0 ? { all_of: tool.scopes } : null;
  return wire;
}

const toolNotFound = (slug: string): Reply => errorReply(404, `Tool ${slug} not found`, CODES.toolNotFound, 'Tool_ToolNotFound');
const versionNotFound = (slug: string, version: string): Reply =>
  errorReply(404, `Version ${version} of tool ${slug} not found`, CODES.toolVersionNotFound, 'Tool_ToolVersionNotFound');

export function listTools({ state, query, apiVersion }: RouteContext): Reply {
  const toolkit = query.get('toolkit_slug')?.toLowerCase();
  const slugs = listParam(query, 'tool_slugs').map((s) => s.toUpperCase());
  const tags = listParam(query, 'tags');
  const text = (query.get('query') ?? query.get('search') ?? '').toLowerCase();
  const withDeprecated = boolParam(query, 'include_deprecated') ?? false;
  const versions = versionsParam(query);
  const items: Record<string, unknown>[] = [];
  for (const tool of state.tools()) {
    if (toolkit !== undefined && tool.toolkit !== toolkit) continue;
    if (slugs.length > 0 && !slugs.includes(tool.slug)) continue;
    if (tags.length > 0 && !tags.some((t) => tool.tags.includes(t))) continue;
    if (text !== '' && ![tool.slug, tool.name, tool.description].some((s) => s.toLowerCase().includes(text))) continue;
    // Asking for deprecated tools by slug finds them, as Composio does.
    if (tool.deprecated && !withDeprecated && slugs.length === 0) continue;
    const requested = versions === 'latest' ? 'latest' : versions?.[tool.toolkit];
    const version = state.resolveVersion(tool.toolkit, requested, apiVersion);
    if (version === undefined) return badRequest(`Toolkit ${tool.toolkit} has no version ${String(requested)}`);
    if (inputAt(tool, version) === undefined) continue;
    items.push(toolWire(tool, version, state, apiVersion));
  }
  return page(items, query);
}

export function getTool({ state, query, apiVersion, params }: RouteContext): Reply {
  const tool = state.tools().find((t) => t.slug === params['slug']);
  if (!tool) return toolNotFound(params['slug']!);
  const versions = versionsParam(query);
  const requested = query.get('version') ?? (versions === 'latest' ? 'latest' : versions?.[tool.toolkit]);
  const version = state.resolveVersion(tool.toolkit, requested ?? undefined, apiVersion);
  if (version === undefined || inputAt(tool, version) === undefined) return versionNotFound(tool.slug, requested ?? 'default');
  return { status: 200, body: toolWire(tool, version, state, apiVersion) };
}

export function executeTool({ state, params, body, apiVersion, headers, toolError }: RouteContext): Reply {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return badRequest('The request body must be a JSON object');
  const input = body as Record<string, unknown>;
  if (input['arguments'] === undefined && input['text'] !== undefined) return badRequest('The fake does not interpret `text`; pass `arguments`');
  const args = input['arguments'] ?? {};
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return badRequest('arguments must be an object');

  const tool = state.tools().find((t) => t.slug === params['slug']);
  if (!tool) return toolNotFound(params['slug']!);
  const requested = typeof input['version'] === 'string' ? input['version'] : undefined;
  const version = state.resolveVersion(tool.toolkit, requested, apiVersion);
  const schema = version === undefined ? undefined : inputAt(tool, version);
  if (version === undefined || schema === undefined) return versionNotFound(tool.slug, requested ?? 'default');

  const accountId = typeof input['connected_account_id'] === 'string' ? input['connected_account_id'] : undefined;
  const userId = typeof input['user_id'] === 'string' ? input['user_id'] : undefined;
  const accountCheck = checkAccount(state, tool, accountId, userId);
  if ('status' in accountCheck) return accountCheck;

  const validate = validatorFor(schema);
  if (!validate(args)) {
    const errors = (validate.errors ?? []).map((e) => `${e.instancePath === '' ? 'arguments' : `arguments${e.instancePath.replaceAll('/', '.')}`} ${e.message ?? 'is invalid'}`);
    return errorReply(400, `Invalid arguments for ${tool.slug}: ${errors.join('; ')}`, CODES.invalidArguments, 'ActionExecute_InvalidArguments', { errors });
  }

  const sequence = state.executions.filter((e) => e.tool === tool.slug).length + 1;
  const outcome = toolError !== undefined ? { error: toolError } : tool.run({ sequence, arguments: args as Record<string, unknown>, version });
  const logId = `log_fake_${state.executions.length + 1}`;
  state.executions.push({
    seq: state.executions.length + 1, at: new Date(), tool: tool.slug, version, arguments: args as Record<string, unknown>,
    connectedAccountId: accountCheck.accountId, userId, idempotencyKey: headers['idempotency-key'], successful: 'data' in outcome, logId,
  });
  return {
    status: 200,
    body: 'data' in outcome ? { data: outcome.data, error: null, successful: true, log_id: logId } : { data: {}, error: outcome.error, successful: false, log_id: logId },
  };
}

/** The account a run would use, or the refusal Composio answers. */
function checkAccount(state: FakeState, tool: FakeTool, accountId: string | undefined, userId: string | undefined): Reply | { accountId: string } {
  let account;
  if (accountId !== undefined) {
    account = state.liveAccount(accountId);
    if (!account) return errorReply(404, `Connected account ${accountId} not found`, CODES.executeAccountNotFound, 'ActionExecute_ConnectedAccountNotFound');
  } else if (userId !== undefined) {
    // Composio picks the user's account for the toolkit when no id is given.
    account = [...state.accounts.values()].find((a) => !a.deleted && a.userId === userId && a.toolkit === tool.toolkit && a.status === 'ACTIVE');
    if (!account) return errorReply(404, `No connected account found for user ${userId} and toolkit ${tool.toolkit}`, CODES.executeAccountNotFound, 'ActionExecute_ConnectedAccountNotFound');
  } else {
    return badRequest('connected_account_id or user_id is required');
  }
  if (account.toolkit !== tool.toolkit) return badRequest(`Connected account ${account.id} belongs to toolkit ${account.toolkit}, not ${tool.toolkit}`);
  if (userId !== undefined && account.userId !== userId) return badRequest(`Connected account ${account.id} does not belong to user ${userId}`);
  if (account.status === 'EXPIRED' || account.status === 'REVOKED') {
    return errorReply(state.expiredAccountStatus, `Connected account ${account.id} is in ${account.status} state`, CODES.accountExpired, 'ActionExecute_ConnectedAccountExpired',
      { suggested_fix: 'Ask the user to authorise the account again' });
  }
  if (account.status !== 'ACTIVE' || account.isDisabled) {
    return errorReply(422, `Connected account ${account.id} is ${account.status}, not ACTIVE`, CODES.accountNotActive, 'ActionExecute_ConnectedAccountNotActive');
  }
  return { accountId: account.id };
}

// ── toolkits ─────────────────────────────────────────────────────────────────────────

function toolkitWire(slug: string, state: FakeState): Record<string, unknown> {
  const toolkit = toolkitOf(slug);
  const latest = state.versionsOf(slug).at(-1)!;
  return {
    slug: toolkit.slug,
    name: toolkit.name,
    auth_schemes: toolkit.authSchemes,
    composio_managed_auth_schemes: toolkit.authSchemes,
    is_local_toolkit: false,
    no_auth: false,
    deprecated: { toolkitId: `00000000-0000-4000-8000-${toolkit.slug.padStart(12, '0')}` },
    meta: {
      created_at: '2024-05-01T00:00:00.000Z',
      updated_at: '2025-11-20T00:00:00.000Z',
      description: toolkit.description,
      logo: toolkit.logo,
      app_url: toolkit.appUrl,
      categories: toolkit.categories,
      tools_count: state.tools().filter((t) => t.toolkit === slug && !t.deprecated).length,
      triggers_count: 0,
      version: latest,
    },
  };
}

export function listToolkits({ state, query }: RouteContext): Reply {
  const category = query.get('category')?.toLowerCase();
  const search = query.get('search')?.toLowerCase();
  const toolkits = TOOLKITS
    .filter((t) => category === undefined || t.categories.some((c) => c.id === category || c.name.toLowerCase() === category))
    .filter((t) => search === undefined || t.slug.includes(search) || t.name.toLowerCase().includes(search))
    .map((t) => toolkitWire(t.slug, state));
  return page(toolkits, query);
}

export function getToolkit({ state, params, query }: RouteContext): Reply {
  const slug = params['slug']!.toLowerCase();
  if (!TOOLKITS.some((t) => t.slug === slug)) return errorReply(404, `Toolkit ${slug} not found`, CODES.notFound, 'Toolkit_NotFound');
  const version = query.get('version');
  if (version !== null && state.resolveVersion(slug, version, 'v3.1') === undefined) {
    return errorReply(404, `Version ${version} of toolkit ${slug} not found`, CODES.notFound, 'Toolkit_VersionNotFound');
  }
  const wire = toolkitWire(slug, state);
  const meta = wire['meta'] as Record<string, unknown>;
  const categories = toolkitOf(slug).categories.map((c) => ({ name: c.name, slug: c.id }));
  return { status: 200, body: { ...wire, enabled: true, meta: { ...meta, categories, available_versions: state.versionsOf(slug) } } };
}

export function listCategories({ query }: RouteContext): Reply {
  const categories = [...new Map(TOOLKITS.flatMap((t) => t.categories).map((c) => [c.id, c])).values()];
  return page(categories, query);
}
