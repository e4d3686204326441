import type { Database } from '../../db/database.ts';
import { accountRemedy, stewardAccountStatus } from '../../integrations/composio/account-status.ts';
import { ArgumentValidator, type ArgumentProblem } from '../../integrations/composio/argument-validator.ts';
import { ComposioError, type ComposioClient } from '../../integrations/composio/index.ts';
import { serviceAccess } from '../../services/access.ts';
import { SqlConnectedAccountService, type ConnectedAccountStatus } from '../../services/connected-account-service.ts';
import type { OutboxEnvelope } from '../../services/outbox-service.ts';
import { ExecutionError, type ExecutionContext, type ExecutionResult, type Executor } from '../executor.ts';
import { executionErrorOf, impliedAccountStatus, mayConcernAccount } from './composio-errors.ts';
import { loadComposioExecutionContext, type ComposioExecutionContext } from './composio-queries.ts';

export interface ComposioExecutorOptions {
  db: Database;
  client: ComposioClient;
  /** Names the executor on the audit rows of account status changes; default `composio-executor`. */
  actorId?: string;
  /** Compiled argument schemas kept at once; default 1000. */
  schemaCacheSize?: number;
}

// Provider text can be a page long; last_error and audit rows need the start.
const MAX_PROVIDER_TEXT = 500;

/**
 * Runs envelopes through Composio (docs/implementation/composio-tooling.md, "The executor"):
 *   1. the tenant's current catalog entry gives the tool version to pin and the JSON Schema
 *      the arguments must satisfy; a tool missing from the catalog, or arguments that do
 *      not fit, fail permanently before any HTTP call;
 *   2. the envelope's connected account must be one of its tenant's, active in Steward;
 *      one that is not is held for a person (account_unusable) without calling Composio;
 *   3. execute, with the tenant's id as Composio's user_id (Composio then refuses an
 *      account linked for anyone else), the external_id as Idempotency-Key and the
 *      worker's AbortSignal;
 *   4. a refusal that may concern the account is checked against the account's state at
 *      Composio; a confirmed one marks our row (audited) and holds the envelope;
 *   5. `successful: false` (the tool ran and failed upstream) is permanent; otherwise
 *      `data` is the envelope's result.
 */
export class ComposioExecutor implements Executor {
  readonly name = 'composio';
  readonly #db: Database;
  readonly #client: ComposioClient;
  readonly #accounts: SqlConnectedAccountService;
  readonly #actorId: string;
  readonly validator: ArgumentValidator;

  constructor(options: ComposioExecutorOptions) {
    this.#db = options.db;
    this.#client = options.client;
    this.#accounts = new SqlConnectedAccountService(serviceAccess(options.db));
    this.#actorId = options.actorId ?? 'composio-executor';
    this.validator = new ArgumentValidator(options.schemaCacheSize === undefined ? {} : { maxEntries: options.schemaCacheSize });
  }

  async execute(envelope: OutboxEnvelope, { idempotencyKey, signal }: ExecutionContext): Promise<ExecutionResult> {
    signal.throwIfAborted();
    const context = await this.#db.asService((tx) => loadComposioExecutionContext(tx, envelope.tenant_id, envelope.tool_slug, envelope.connected_account_id));
    const tool = this.#checkTool(envelope, context);
    const account = checkAccount(envelope, context);

    let execution;
    try {
      execution = await this.#client.executeTool(envelope.tool_slug, {
        arguments: envelope.arguments, version: tool.version, connectedAccountId: account.composioId,
        userId: envelope.tenant_id, idempotencyKey,
      }, { signal });
    } catch (error) {
      if (!(error instanceof ComposioError)) throw error;
      if (mayConcernAccount(error)) {
        const unusable = await this.#confirmAccountRefusal(envelope, account, error, signal);
        if (unusable) throw unusable;
      }
      throw executionErrorOf(error);
    }
    if (!execution.successful) {
      throw new ExecutionError('permanent', `Composio ran ${envelope.tool_slug} and it failed: ${clip(execution.error ?? 'no error message')}`, { status: 200 });
    }
    return { result: execution.data };
  }

  /** The version to pin; the arguments checked against its schema. */
  #checkTool(envelope: OutboxEnvelope, { tool }: ComposioExecutionContext): { version: string } {
    const slug = envelope.tool_slug;
    if (!tool) {
      throw new ExecutionError('permanent', `tool ${slug} is not in the tenant's catalog: sync the catalog, then requeue the envelope`);
    }
    if (tool.removedAt) {
      // Composio no longer lists it (catalog sync marks, never deletes): a call would fail
      // or run something deprecated.
      throw new ExecutionError('permanent', `tool ${slug} was removed from Composio's catalog (noticed ${tool.removedAt.toISOString()}): ${slug} was not called`);
    }
    const check = this.validator.check(
      { tenantId: envelope.tenant_id, toolSlug: slug, version: tool.version, revision: tool.updatedAt.getTime() },
      tool.schema, envelope.arguments,
    );
    if ('schemaError' in check) {
      throw new ExecutionError('permanent', `the catalog schema of ${slug}@${tool.version} is not valid JSON Schema (${clip(check.schemaError)}): the arguments cannot be checked, so ${slug} was not called`);
    }
    if (!check.ok) {
      throw new ExecutionError('permanent', `arguments do not match the schema of ${slug}@${tool.version}: ${describeProblems(check.problems)}`, { status: 400 });
    }
    return { version: tool.version };
  }

  /**
   * Asks Composio what state the account is in. Not usable there → our row takes that
   * status (audited, `execution_refused`) and the envelope is held. Active and enabled
   * there → the refusal was about something else (a deprecated tool's 410): undefined.
   * Composio cannot be asked → trust the refusal's own code, if it names a state.
   */
  async #confirmAccountRefusal(envelope: OutboxEnvelope, account: UsableAccount, refusal: ComposioError, signal: AbortSignal): Promise<ExecutionError | undefined> {
    let status: ConnectedAccountStatus | undefined;
    let reason: string | null = null;
    try {
      const remote = await this.#client.getConnectedAccount(account.composioId, { signal });
      status = stewardAccountStatus(remote);
      reason = remote.status_reason;
    } catch (error) {
      if (!(error instanceof ComposioError)) throw error;
      status = error.status === 404 ? 'revoked' : impliedAccountStatus(refusal);
      if (error.status === 404) reason = 'the account no longer exists at Composio';
    }
    if (status === undefined || status === 'active') return undefined;

    const said = `${refusal.providerMessage ?? refusal.message}${refusal.code === undefined ? '' : ` (code ${refusal.code})`}`;
    await this.#accounts.setStatus(account.id, {
      status, transition: 'execution_refused',
      reason: clip(reason ?? said),
      details: {
        envelope_id: envelope.id, tool_slug: envelope.tool_slug, http_status: refusal.status ?? null,
        provider_code: refusal.code ?? null, provider_message: clip(said),
      },
      actor: { type: 'worker', id: this.#actorId },
    });
    return new ExecutionError('account_unusable',
      `Composio refused ${envelope.tool_slug}: connected account ${account.composioId} is ${status} (${clip(reason ?? said)}); ${accountRemedy(status)}, then approve this envelope`,
      refusal.status === undefined ? { cause: refusal } : { status: refusal.status, cause: refusal });
  }
}

interface UsableAccount {
  id: string;
  composioId: string;
}

/** The envelope's account, if it is its tenant's, linked to Composio and active in Steward. */
function checkAccount(envelope: OutboxEnvelope, { account }: ComposioExecutionContext): UsableAccount {
  const named = envelope.connected_account_id;
  if (named === null || named.trim() === '') {
    throw new ExecutionError('permanent', `the envelope names no connected_account_id; ${envelope.tool_slug} needs one`);
  }
  if (!account) {
    throw new ExecutionError('permanent', `connected_account_id ${named} is not one of the tenant's connected accounts`);
  }
  if (account.composioId === null || account.composioId === '') {
    throw new ExecutionError('permanent', `connected account ${account.id} has no metadata.composio_id: it was never linked through Composio`);
  }
  if (account.status !== 'active') {
    // Steward already knows: no call, which Composio would only refuse.
    throw new ExecutionError('account_unusable',
      `connected account ${account.composioId} is ${account.status}; ${accountRemedy(account.status)}, then approve this envelope (Composio was not called)`);
  }
  return { id: account.id, composioId: account.composioId };
}

function describeProblems(problems: ArgumentProblem[]): string {
  return problems.map((p) => `${p.path} ${p.message}`).join('; ');
}

function clip(text: string): string {
  return text.length <= MAX_PROVIDER_TEXT ? text : `${text.slice(0, MAX_PROVIDER_TEXT)}…`;
}
