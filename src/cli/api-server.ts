import type { Command } from 'commander';
import type { Database } from '../db/database.ts';
import { projectKeys } from '../http/auth/tokens.ts';
import { DEFAULT_API_PORT, startApiServer, type ApiServer } from '../http/server.ts';
import { portNumber } from './options.ts';
import { printLine } from './output.ts';
import { healthSources, logError, type ProcessTelemetry } from './telemetry.ts';

// The API server as the long-running commands run it (`serve` alone, `start` with the worker).

export interface ApiOptions {
  port: number;
  host: string;
}

export function addApiOptions(cmd: Command): Command {
  return cmd
    .option('--port <n>', `serve the API on this port (0 = any free port)`, portNumber('port'), DEFAULT_API_PORT)
    .option('--host <address>', 'the address to serve it on (0.0.0.0 to accept connections from elsewhere)', '127.0.0.1');
}

/** Starts the API (REST, /healthz and /metrics) on the options' host and port. */
export function serveApi(db: Database, jwtSecret: string, telemetry: ProcessTelemetry, isAlive: (() => boolean) | undefined, options: ApiOptions): Promise<ApiServer> {
  return startApiServer({
    db,
    jwtSecret,
    health: healthSources(db, telemetry, isAlive),
    logger: telemetry.logger,
    port: options.port,
    host: options.host,
    onError: logError(telemetry.logger, 'api'),
  });
}

/** The banner lines naming the API and, for local development, its keys (as `supabase start` prints them). */
export async function printApiBanner(server: ApiServer, jwtSecret: string, options: { keys: boolean; indent?: string }): Promise<void> {
  const indent = options.indent ?? '';
  printLine(`${indent}API: ${server.url} (REST: ${server.url}/rest/v1; health: ${server.url}/healthz, metrics: ${server.url}/metrics)`);
  if (!options.keys) return;
  const keys = await projectKeys(jwtSecret);
  printLine(`${indent}anon key: ${keys.anonKey}`);
  printLine(`${indent}service_role key: ${keys.serviceRoleKey}`);
  printLine(`${indent}publishable key: ${keys.publishableKey}`);
  printLine(`${indent}secret key: ${keys.secretKey}`);
  printLine(`${indent}(the service_role and secret keys bypass row level security: keep them server-side; tenant tokens: steward tokens mint)`);
}
