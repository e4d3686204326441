import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../support/cli.ts';
import { embeddedTarget, postgresTarget, type Target } from '../support/cli-targets.ts';
import { ENGINES } from '../support/engines.ts';

// `steward search` and `steward evidence …` as a person runs them, on the demo seed. The
// zero-setup default embedder throughout (no model directory, no network).

const DEMO = '11111111-1111-1111-1111-111111111111';
const SECOND = '77777777-7777-7777-7777-777777777777';
const AWAITING = '44444444-0000-4000-8000-000000000003';

interface Hit { tenant_id: string; source_type: string; content: string }

for (const engine of ENGINES) {
  describe(`steward search and evidence on ${engine.name}`, () => {
    let target: Target;
    const cli = (...args: string[]) => runCli(args, target.env);
    before(async () => {
      target = engine.name === 'pglite' ? await embeddedTarget() : await postgresTarget();
      for (const args of [['db', 'migrate'], ['db', 'seed']]) {
        const res = await cli(...args);
        assert.equal(res.code, 0, res.stderr);
      }
    });
    after(() => target.cleanup());

    it('evidence reindex collects the seed and embeds it, with progress on stderr', async () => {
      const res = await cli('evidence', 'reindex', '--batch', '4');
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /^collected \d+ proposal \(\d+ rows\), \d+ tool_output \(\d+ rows\), \d+ audit \(\d+ rows\)$/m);
      assert.match(res.stdout, /embedded (\d+) of \1 row\(s\) with use-en-0\.2\.0-pca384-v1 in \d+ ms; 0 still to embed/);
      assert.match(res.stderr, /use-en-0\.2\.0-pca384-v1: embedded 0\/\d+ \(0%\)\n/);
      assert.match(res.stderr, /embedded (\d+)\/\1 \(100%\)\n$/);
      const status = JSON.parse((await cli('evidence', 'status', '--json')).stdout) as { active_model: string; models: { embedding_model: string | null }[] };
      assert.deepEqual(status.models.map((m) => m.embedding_model), [status.active_model]);
    });

    it('search prints a table, or JSON; keyword, semantic and hybrid; --tenant and --source narrow it', async () => {
      const table = await cli('search', 'renewal outreach');
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^RANK\s+SCORE\s+SOURCE\s+TENANT\s+CREATED\s+TEXT/);
      for (const mode of ['keyword', 'semantic', 'hybrid']) {
        const res = await cli('search', 'renewal', '--mode', mode, '--tenant', DEMO, '--json');
        assert.equal(res.code, 0, res.stderr);
        const { hits } = JSON.parse(res.stdout) as { hits: Hit[] };
        assert.ok(hits.length > 0, mode);
        assert.ok(hits.every((h) => h.tenant_id === DEMO), mode);
      }
      const second = JSON.parse((await cli('search', 'weekly pipeline summary', '--tenant', SECOND, '--mode', 'semantic', '--json')).stdout) as { hits: Hit[] };
      assert.ok(second.hits.every((h) => h.tenant_id === SECOND));
      const audits = JSON.parse((await cli('search', 'outbox', '--source', 'audit', '--mode', 'keyword', '--json')).stdout) as { hits: Hit[] };
      assert.ok(audits.hits.length > 0 && audits.hits.every((h) => h.source_type === 'audit'));
    });

    it('bad input: a usage error exits 2, an invalid value exits 1 naming the field', async () => {
      assert.equal((await cli('search', 'x', '--mode', 'fuzzy')).code, 2);
      const bad = await cli('search', 'x', '--metadata', '[1]');
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /--metadata must be a JSON object \[invalid_input, field metadata\]/);
      const tenant = await cli('search', 'x', '--tenant', 'nope');
      assert.match(tenant.stderr, /\[invalid_input, field tenant_id\]/);
    });

    it('evidence add, for-proposal, suggest, review and context', async () => {
      const added = await cli('evidence', 'add', '--tenant', DEMO, '--content', 'The CFO wants invoice corrections sent by email, never by Slack.');
      assert.equal(added.code, 0, added.stderr);
      assert.equal((await cli('evidence', 'reindex', '--no-collect')).code, 0);

      const found = JSON.parse((await cli('evidence', 'for-proposal', AWAITING, '--json')).stdout) as { evidence: Hit[] };
      assert.ok(found.evidence.some((h) => /invoice corrections/.test(h.content)), JSON.stringify(found.evidence.map((h) => h.content)));

      const suggested = await cli('evidence', 'suggest', AWAITING);
      assert.equal(suggested.code, 0, suggested.stderr);
      assert.match(suggested.stdout, /^suggestion [0-9a-f-]{36} for envelope 44444444-0000-4000-8000-000000000003 \(GMAIL__messages\.send\): threshold 0\.8 → /);
      assert.match(suggested.stdout, /a suggestion only/);
      const [open] = JSON.parse((await cli('evidence', 'suggestions', '--status', 'open', '--json')).stdout) as { id: string }[];
      const reviewed = await cli('evidence', 'review', open!.id, '--dismiss', '--note', 'too little history');
      assert.equal(reviewed.code, 0, reviewed.stderr);
      assert.match(reviewed.stdout, /dismissed/);
      assert.equal((await cli('evidence', 'review', open!.id)).code, 2, 'needs --accept or --dismiss');

      const context = JSON.parse((await cli('evidence', 'context', 'invoice correction for the CFO', '--tenant', DEMO, '--budget', '120', '--json')).stdout) as { used_tokens: number; snippets: unknown[] };
      assert.ok(context.snippets.length > 0 && context.used_tokens <= 120);
    });

    it('a gte-small embedder without a model directory fails naming what is missing', async () => {
      const res = await runCli(['evidence', 'reindex', '--model', 'gte-small'], { ...target.env, STEWARD_MODEL_DIR: '/nonexistent/models' });
      assert.equal(res.code, 1);
      assert.match(res.stderr, /gte-small model not found: \/nonexistent\/models\/Supabase\/gte-small lacks config\.json, tokenizer\.json, tokenizer_config\.json, onnx\/model\.onnx/);
      const unset = await runCli(['evidence', 'reindex', '--model', 'gte-small'], target.env);
      assert.match(unset.stderr, /STEWARD_MODEL_DIR: required when STEWARD_EMBEDDER=gte-small \[config_invalid, field STEWARD_MODEL_DIR\]/);
    });
  });
}
