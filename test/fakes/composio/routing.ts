// The fake's API routes: method + path pattern → route name and handler. Served under
// /api/v3.1 and /api/v3 alike.
import * as accountRoutes from './account-routes.ts';
import type { RouteName } from './faults.ts';
import type { ApiVersion, FakeState } from './state.ts';
import * as toolRoutes from './tool-routes.ts';
import type { Reply } from './wire.ts';

export interface RouteContext {
  state: FakeState;
  apiVersion: ApiVersion;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  headers: Record<string, string | undefined>;
  /** The fake's own URL, for the redirect URLs it hands out. */
  baseUrl: string;
  /** Set by a `tool_error` fault: the tool fails upstream with this message. */
  toolError: string | undefined;
}

interface Route {
  method: string;
  /** Segments; `:name` captures one. */
  pattern: string[];
  name: RouteName;
  handle: (context: RouteContext) => Reply;
}

const route = (method: string, path: string, name: RouteName, handle: (context: RouteContext) => Reply): Route =>
  ({ method, pattern: path.split('/').filter(Boolean), name, handle });

// Literal paths before the patterns that would swallow them (/toolkits/categories).
const ROUTES: Route[] = [
  route('GET', '/tools', 'tools.list', toolRoutes.listTools),
  route('POST', '/tools/execute/:slug', 'tools.execute', toolRoutes.executeTool),
  route('GET', '/tools/:slug', 'tools.get', toolRoutes.getTool),
  route('GET', '/toolkits', 'toolkits.list', toolRoutes.listToolkits),
  route('GET', '/toolkits/categories', 'toolkits.categories', toolRoutes.listCategories),
  route('GET', '/toolkits/:slug', 'toolkits.get', toolRoutes.getToolkit),
  route('GET', '/connected_accounts', 'connected_accounts.list', accountRoutes.listAccounts),
  route('POST', '/connected_accounts', 'connected_accounts.create', accountRoutes.createAccount),
  route('POST', '/connected_accounts/link', 'connected_accounts.link', accountRoutes.createLink),
  route('GET', '/connected_accounts/:id', 'connected_accounts.get', accountRoutes.getAccount),
  route('PATCH', '/connected_accounts/:id/status', 'connected_accounts.status', accountRoutes.setAccountEnabled),
  route('POST', '/connected_accounts/:id/refresh', 'connected_accounts.refresh', accountRoutes.refreshAccount),
  route('DELETE', '/connected_accounts/:id', 'connected_accounts.delete', accountRoutes.deleteAccount),
  route('GET', '/auth_configs', 'auth_configs.list', accountRoutes.listAuthConfigs),
  route('POST', '/auth_configs', 'auth_configs.create', accountRoutes.createAuthConfig),
  route('GET', '/auth_configs/:id', 'auth_configs.get', accountRoutes.getAuthConfig),
  route('PATCH', '/auth_configs/:id', 'auth_configs.update', accountRoutes.updateAuthConfig),
  route('PATCH', '/auth_configs/:id/:status', 'auth_configs.status', accountRoutes.setAuthConfigStatus),
  route('DELETE', '/auth_configs/:id', 'auth_configs.delete', accountRoutes.deleteAuthConfig),
];

export interface MatchedRoute {
  name: RouteName;
  params: Record<string, string>;
  handle: (context: RouteContext) => Reply;
}

/** The route for `method` and `path` (under the API prefix); undefined when none. */
export function matchRoute(method: string, path: string): MatchedRoute | undefined {
  const segments = path.split('/').filter(Boolean);
  for (const candidate of ROUTES) {
    if (candidate.method !== method || candidate.pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const fits = candidate.pattern.every((part, i) => {
      const segment = segments[i]!;
      if (part.startsWith(':')) {
        params[part.slice(1)] = decodeURIComponent(segment);
        return true;
      }
      return part === segment;
    });
    if (fits) return { name: candidate.name, params, handle: candidate.handle };
  }
  return undefined;
}

/** The tool a request is about, for faults scoped to one tool. */
export function toolOf(match: MatchedRoute): string | undefined {
  return match.name === 'tools.get' || match.name === 'tools.execute' ? match.params['slug'] : undefined;
}
