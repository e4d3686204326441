-- 000_demo_tenant: the demo data of the original system (reference/original-system.md,
-- "Demo seed"), extended across risk tiers and envelope states, plus a second tenant so
-- that isolation is visible. Idempotent: fixed ids and `on conflict do nothing`, so a
-- re-run (steward db seed --force) never duplicates a row, the audit rows included.

insert into public.tenants (id, name, plan, timezone, concurrency_limit) values
  ('11111111-1111-1111-1111-111111111111', 'Demo Tenant', 'demo', 'America/New_York', 1),
  ('77777777-7777-7777-7777-777777777777', 'Second Tenant', 'free', 'Europe/Berlin', 2)
on conflict (id) do nothing;

insert into public.objectives (id, tenant_id, title, metric, target, horizon, summary) values
  ('22222222-2222-2222-2222-222222222222', '11111111-1111-1111-1111-111111111111',
   'Increase renewal rate', 'renewal_rate', '+5% QoQ', 'Q4', 'Reach out to accounts up for renewal.'),
  ('33333333-3333-3333-3333-333333333333', '11111111-1111-1111-1111-111111111111',
   'Improve support SLA', 'sla_achieved', '>= 95%', 'Monthly', 'Answer support tickets within SLA.'),
  ('77777777-0000-4000-8000-000000000001', '77777777-7777-7777-7777-777777777777',
   'Grow pipeline', 'qualified_leads', '+20 per month', 'Quarterly', null)
on conflict (id) do nothing;

insert into public.guardrails (tenant_id, quiet_hours, trust_threshold, scopes, require_evidence, evidence_insert_scopes) values
  ('11111111-1111-1111-1111-111111111111', '{"start": 22, "end": 6}', 0.8,
   '{"allowed": ["GMAIL", "SLACK", "HUBSPOT"]}', true, '{finance:write}'),
  ('77777777-7777-7777-7777-777777777777', null, 0.6,
   '{"allowed": ["SLACK"]}', false, '{}')
on conflict (tenant_id) do nothing;

insert into public.connected_accounts (id, tenant_id, provider, status, scopes, linked_at, metadata) values
  ('55555555-5555-5555-5555-555555555555', '11111111-1111-1111-1111-111111111111',
   'slack', 'active', '{SLACK.CHAT:WRITE}', now(), '{"composio_id": "ca_demo_slack"}'),
  ('66666666-6666-6666-6666-666666666666', '11111111-1111-1111-1111-111111111111',
   'gmail', 'active', '{GMAIL.SMTP}', now(), '{"composio_id": "ca_demo_gmail"}'),
  ('66666666-0000-4000-8000-000000000002', '11111111-1111-1111-1111-111111111111',
   'hubspot', 'expired', '{HUBSPOT.DEALS:WRITE}', now() - interval '90 days', '{"composio_id": "ca_demo_hubspot"}'),
  ('77777777-0000-4000-8000-000000000005', '77777777-7777-7777-7777-777777777777',
   'slack', 'active', '{SLACK.CHAT:WRITE}', now(), '{"composio_id": "ca_second_slack"}')
on conflict (id) do nothing;

insert into public.tool_catalog (tenant_id, tool_slug, display_name, description, version, risk, schema, required_scopes) values
  ('11111111-1111-1111-1111-111111111111', 'GMAIL__drafts.create', 'Create Gmail draft',
   'Creates a draft email in the connected Gmail account.', '1.0', 'medium',
   '{"type": "object", "required": ["to", "subject", "body"], "properties": {"to": {"type": "string"}, "subject": {"type": "string"}, "body": {"type": "string"}}}',
   '{GMAIL.SMTP}'),
  ('11111111-1111-1111-1111-111111111111', 'SLACK__chat.postMessage', 'Post Slack message',
   'Posts a message to a Slack channel.', '1.0', 'low',
   '{"type": "object", "required": ["channel", "text"], "properties": {"channel": {"type": "string"}, "text": {"type": "string"}}}',
   '{SLACK.CHAT:WRITE}'),
  ('11111111-1111-1111-1111-111111111111', 'GMAIL__messages.send', 'Send Gmail message',
   'Sends an email immediately.', '1.0', 'high',
   '{"type": "object", "required": ["to", "subject", "body"], "properties": {"to": {"type": "string"}, "subject": {"type": "string"}, "body": {"type": "string"}}}',
   '{GMAIL.SMTP}'),
  ('11111111-1111-1111-1111-111111111111', 'HUBSPOT__deals.update', 'Update HubSpot deal',
   'Changes a deal''s stage or amount.', '1.0', 'high',
   '{"type": "object", "required": ["deal_id"], "properties": {"deal_id": {"type": "string"}, "stage": {"type": "string"}, "amount": {"type": "number"}}}',
   '{HUBSPOT.DEALS:WRITE}'),
  ('77777777-7777-7777-7777-777777777777', 'SLACK__chat.postMessage', 'Post Slack message',
   'Posts a message to a Slack channel.', '1.0', 'low',
   '{"type": "object", "required": ["channel", "text"], "properties": {"channel": {"type": "string"}, "text": {"type": "string"}}}',
   '{SLACK.CHAT:WRITE}')
on conflict (tenant_id, tool_slug, version) do nothing;

insert into public.outbox (id, tenant_id, tool_slug, arguments, connected_account_id, risk, external_id,
                           trust_context, metadata, status, attempts, last_error, result) values
  ('44444444-4444-4444-4444-444444444444', '11111111-1111-1111-1111-111111111111', 'GMAIL__drafts.create',
   '{"to": "customer@example.com", "subject": "Renewal check-in", "body": "Hi! Checking in on your renewal."}',
   'ca_demo_gmail', 'medium', 'env-seed-gmail-001', '{"score": 0.92, "source": "agent"}', '{"seed": true}',
   'pending', 0, null, null),
  ('44444444-0000-4000-8000-000000000002', '11111111-1111-1111-1111-111111111111', 'SLACK__chat.postMessage',
   '{"channel": "#renewals", "text": "Renewal outreach drafted for 3 accounts."}',
   'ca_demo_slack', 'low', 'env-seed-slack-001', '{"score": 0.97, "source": "agent"}', '{"seed": true}',
   'success', 1, null, '{"ok": true, "ts": "1732500000.000100"}'),
  ('44444444-0000-4000-8000-000000000003', '11111111-1111-1111-1111-111111111111', 'GMAIL__messages.send',
   '{"to": "cfo@example.com", "subject": "Invoice correction", "body": "Please find the corrected invoice."}',
   'ca_demo_gmail', 'high', 'env-seed-gmail-002', '{"score": 0.55, "source": "agent"}', '{"seed": true}',
   'awaiting_approval', 0, null, null),
  ('44444444-0000-4000-8000-000000000004', '11111111-1111-1111-1111-111111111111', 'GMAIL__drafts.create',
   '{"to": "customer@example.com", "subject": "Renewal check-in", "body": "Duplicate draft."}',
   'ca_demo_gmail', 'medium', 'env-seed-gmail-003', '{"score": 0.9, "source": "agent"}', '{"seed": true}',
   'conflict', 1, 'HTTP 409: draft already exists', null),
  ('77777777-0000-4000-8000-000000000003', '77777777-7777-7777-7777-777777777777', 'SLACK__chat.postMessage',
   '{"channel": "#sales", "text": "Weekly pipeline summary is ready."}',
   'ca_second_slack', 'low', 'env-seed-second-001', '{"score": 0.8, "source": "agent"}', '{"seed": true}',
   'pending', 0, null, null)
on conflict (id) do nothing;

insert into public.outbox_dlq (id, tenant_id, tool_slug, arguments, connected_account_id, risk, external_id,
                               trust_context, metadata, status, attempts, last_error, created_at, moved_at) values
  ('44444444-0000-4000-8000-000000000005', '11111111-1111-1111-1111-111111111111', 'HUBSPOT__deals.update',
   '{"deal_id": "D-1042", "stage": "closedwon"}', 'ca_demo_hubspot', 'high', 'env-seed-hubspot-001',
   '{"score": 0.9, "source": "agent"}', '{"seed": true}', 'dlq', 3,
   'HTTP 401: connected account expired', now() - interval '1 hour', now())
on conflict (id) do nothing;

-- Audit rows carry no natural key, so each is written only if absent.
insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
select t.tenant_id, t.actor_type, t.actor_id, t.category, t.payload
  from (values
    ('11111111-1111-1111-1111-111111111111'::uuid, 'agent', 'seed', 'guardrail',
     '{"seed": "demo-guardrail", "guardrail": "trust", "allowed": false, "reason": "trust score 0.55 below threshold 0.8"}'::jsonb),
    ('11111111-1111-1111-1111-111111111111'::uuid, 'worker', 'outbox', 'outbox',
     '{"seed": "demo-success", "envelope_id": "44444444-0000-4000-8000-000000000002", "tool_slug": "SLACK__chat.postMessage", "from": "in_progress", "to": "success"}'::jsonb),
    ('77777777-7777-7777-7777-777777777777'::uuid, 'agent', 'seed', 'outbox',
     '{"seed": "second-enqueue", "envelope_id": "77777777-0000-4000-8000-000000000003", "tool_slug": "SLACK__chat.postMessage", "from": null, "to": "pending"}'::jsonb)
  ) as t(tenant_id, actor_type, actor_id, category, payload)
 where not exists (
   select from public.audit_log a where a.tenant_id = t.tenant_id and a.payload ->> 'seed' = t.payload ->> 'seed');
