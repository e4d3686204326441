import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createWorkerExecutor } from '../../src/cli/composio.ts';
import type { Database } from '../../src/db/database.ts';
import type { OutboxEnvelope } from '../../src/services/outbox-service.ts';

// Which executor the CLI's worker runs, from the environment alone (no database is touched
// until an envelope needs one).

const db = {} as Database;
const context = { idempotencyKey: 'k', signal: new AbortController().signal };
const envelope = (tool_slug: string, args: Record<string, unknown> = {}) =>
  ({ id: 'e1', tenant_id: 't1', tool_slug, arguments: args, connected_account_id: null }) as unknown as OutboxEnvelope;

it('without COMPOSIO_API_KEY: the sandbox, and catalog system envelopes answered as skipped (not dead-lettered)', async () => {
  const { executor, description } = createWorkerExecutor(db, {});
  assert.equal(description, 'sandbox (no COMPOSIO_API_KEY)');
  for (const tool of ['steward.catalog.refresh', 'steward.catalog.drift']) {
    const { result } = await executor.execute(envelope(tool, { toolkit: 'gmail' }), context);
    assert.match(String((result as { skipped: string }).skipped), /COMPOSIO_API_KEY is not set/);
  }
  await assert.rejects(executor.execute(envelope('steward.unknown.tool'), context), { name: 'ExecutionError', kind: 'permanent' });
});

it('with COMPOSIO_API_KEY: Composio at COMPOSIO_BASE_URL, named without the key', () => {
  const { description } = createWorkerExecutor(db, { COMPOSIO_API_KEY: 'ak_secret_value', COMPOSIO_BASE_URL: 'http://127.0.0.1:9' });
  assert.equal(description, 'composio (http://127.0.0.1:9)');
  assert.doesNotMatch(description, /ak_secret_value/);
});

it('a bad COMPOSIO_BASE_URL is a config error naming the variable', () => {
  assert.throws(() => createWorkerExecutor(db, { COMPOSIO_API_KEY: 'k', COMPOSIO_BASE_URL: 'ftp://x' }), /COMPOSIO_BASE_URL/);
});

it('a bad STEWARD_EMBEDDER setting fails re-index envelopes permanently, naming the variable, and nothing else', async () => {
  const { executor } = createWorkerExecutor(db, { STEWARD_EMBEDDER: 'gte-small' }); // needs STEWARD_MODEL_DIR
  await assert.rejects(executor.execute(envelope('steward.evidence.reindex'), context), (error: { kind?: string; message: string }) =>
    error.kind === 'permanent' && /STEWARD_MODEL_DIR/.test(error.message));
});
