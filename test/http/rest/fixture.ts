import type { TestDatabase } from '../../support/engines.ts';

// Rows the REST tests read and write, inserted by the owner: two tenants with rows in the
// tables whose column types the filters exercise (text, nulls, arrays, jsonb, tsvector,
// bigint ids, timestamps).

export const A = 'aaaaaaaa-0000-4000-8000-0000000000a1';
export const B = 'bbbbbbbb-0000-4000-8000-0000000000b2';

export const FIXTURE_SQL = `
insert into public.tenants (id, name, plan, concurrency_limit) values
  ('${A}', 'Tenant A', 'pro', 2),
  ('${B}', 'Tenant B', 'free', 1);

insert into public.objectives (tenant_id, title, metric, target, horizon, summary) values
  ('${A}', 'Increase renewal rate', 'renewal_rate', '90%', 'Q3', 'Renewals after onboarding'),
  ('${A}', 'Grow NPS', 'nps', null, 'Q4', null),
  ('${A}', 'Reduce churn, fast (really)', 'churn', '5%', null, 'Churn "quoted" summary'),
  ('${A}', 'Ship 100% of *stars*', 'stars', null, null, null),
  ('${B}', 'Secret objective of B', 'nps', '50', 'Q1', 'B only');

insert into public.connected_accounts (tenant_id, provider, status, scopes, linked_at, metadata) values
  ('${A}', 'GMAIL', 'active', '{gmail.send,gmail.read}', '2025-01-02T03:04:05Z', '{"tier": "gold", "composio_id": "ca_a1", "n": 3}'),
  ('${A}', 'SLACK', 'pending', '{chat.write}', null, '{"tier": "silver", "composio_id": "ca_a2", "n": 1}'),
  ('${A}', 'HUBSPOT', 'revoked', '{}', null, '{}'),
  ('${B}', 'GMAIL', 'active', '{gmail.send}', '2025-02-03T04:05:06Z', '{"tier": "gold", "composio_id": "ca_b1"}');

insert into public.tool_catalog (tenant_id, tool_slug, display_name, risk, required_scopes) values
  ('${A}', 'GMAIL__send', 'Send email', 'high', '{gmail.send}'),
  ('${A}', 'GMAIL__drafts.create', 'Create draft', 'low', '{gmail.send}'),
  ('${A}', 'SLACK__chat.postMessage', 'Post message', 'medium', '{chat.write}'),
  ('${A}', 'HUBSPOT__contacts.read', null, null, '{}'),
  ('${B}', 'GMAIL__send', 'Send email (B)', 'high', '{gmail.send}');

insert into public.evidence_embeddings (tenant_id, source_type, content) values
  ('${A}', 'note', 'Customer renewal risk is high after the outage'),
  ('${A}', 'note', 'The quick brown fox jumps over the lazy dog'),
  ('${A}', 'document', 'Cats and dogs are both pets'),
  ('${B}', 'note', 'Renewal risk of tenant B');
`;

export async function arrangeFixture(test: TestDatabase): Promise<void> {
  await test.owner.transaction(async (tx) => {
    await tx.exec(FIXTURE_SQL);
  });
}
