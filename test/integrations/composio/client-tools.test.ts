import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { V1, V2 } from '../../fakes/composio/index.ts';
import { rejectsComposio, useFakeComposio } from './support.ts';

// The client's tool and toolkit methods against the fake, over real HTTP: what it sends
// (as the fake recorded it) and what it makes of the answers.

const h = useFakeComposio();

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe('Composio client: tools', () => {
  it('listTools returns one page with its cursor; iterateTools follows cursors to the end', async () => {
    const first = await h.client.listTools({ limit: 5 });
    assert.equal(first.items.length, 5);
    assert.equal(first.total_items, 12, 'the deprecated tool is left out by default');
    assert.equal(typeof first.next_cursor, 'string');
    assert.equal(first.items[0]!.slug, 'GMAIL_SEND_EMAIL');
    assert.deepEqual(first.items[0]!.input_parameters.required, ['recipient_email', 'body']);
    assert.equal(first.items[0]!.toolkit.slug, 'gmail');

    const second = await h.client.listTools({ limit: 5, cursor: first.next_cursor! });
    assert.equal(second.items[0]!.slug, 'SLACK_FETCH_CONVERSATION_HISTORY');

    h.fake.reset();
    const all = await collect(h.client.iterateTools({ limit: 5 }));
    assert.equal(all.length, 12);
    assert.equal(new Set(all.map((t) => t.slug)).size, 12, 'no tool twice');
    const cursors = h.fake.requests.map((r) => r.query['cursor']?.[0]);
    assert.equal(h.fake.requests.length, 3, '5 + 5 + 2');
    assert.equal(cursors[0], undefined);
    assert.ok(cursors[1] !== undefined && cursors[2] !== undefined && cursors[1] !== cursors[2]);
    assert.ok(h.fake.requests.every((r) => r.query['limit']?.[0] === '5'));
  });

  it('listTools sends its filters in Composio’s form: comma-joined arrays, query vs search by API version', async () => {
    const slack = await h.client.listTools({ toolkitSlug: 'slack' });
    assert.deepEqual(slack.items.map((t) => t.slug), ['SLACK_SEND_MESSAGE', 'SLACK_FETCH_CONVERSATION_HISTORY', 'SLACK_DELETE_MESSAGE']);

    const some = await h.client.listTools({ toolSlugs: ['HUBSPOT_CREATE_CONTACT', 'GITHUB_CREATE_ISSUE'] });
    assert.deepEqual(some.items.map((t) => t.slug), ['HUBSPOT_CREATE_CONTACT', 'GITHUB_CREATE_ISSUE']);
    assert.deepEqual(h.fake.requests.at(-1)!.query['tool_slugs'], ['HUBSPOT_CREATE_CONTACT,GITHUB_CREATE_ISSUE']);

    const withDeprecated = await h.client.listTools({ toolkitSlug: 'slack', includeDeprecated: true });
    const old = withDeprecated.items.find((t) => t.slug === 'SLACK_CHAT_POST_MESSAGE');
    assert.equal(old?.is_deprecated, true);

    const found = await h.client.listTools({ search: 'deal' });
    assert.deepEqual(found.items.map((t) => t.slug), ['HUBSPOT_CREATE_DEAL', 'HUBSPOT_UPDATE_DEAL']);
    assert.deepEqual(h.fake.requests.at(-1)!.query['query'], ['deal']);
    await h.clientWith({ apiVersion: 'v3' }).listTools({ search: 'deal' });
    const v3 = h.fake.requests.at(-1)!;
    assert.deepEqual([v3.apiVersion, v3.query['search'], v3.query['query']], ['v3', ['deal'], undefined]);
  });

  it('getTool returns a tool at a version; v3.1 defaults to latest, v3 to the base version', async () => {
    h.fake.setCatalogVersion(2);
    const latest = await h.client.getTool('GMAIL_SEND_EMAIL');
    assert.equal(latest.version, V2);
    assert.deepEqual(latest.available_versions, [V1, V2]);
    assert.deepEqual(latest.input_parameters.required, ['to', 'body']);
    assert.deepEqual(latest.scope_requirements, { all_of: ['https://www.googleapis.com/auth/gmail.send'] }, 'v3.1 adds scope_requirements');

    const pinned = await h.client.getTool('GMAIL_SEND_EMAIL', { version: V1 });
    assert.equal(pinned.version, V1);
    assert.deepEqual(pinned.input_parameters.required, ['recipient_email', 'body']);
    assert.deepEqual(h.fake.requests.at(-1)!.query['version'], [V1]);

    const base = await h.clientWith({ apiVersion: 'v3' }).getTool('GMAIL_SEND_EMAIL');
    assert.equal(base.version, V1);
    assert.equal(base.scope_requirements, undefined);
  });

  it('getTool: an unknown tool or version is a permanent 404 with the provider code', async () => {
    const tool = await rejectsComposio(h.client.getTool('GMAIL_NO_SUCH_TOOL'), { kind: 'permanent', failure: 'http', status: 404, code: 2401 });
    assert.equal(tool.providerMessage, 'Tool GMAIL_NO_SUCH_TOOL not found');
    assert.equal(tool.operation, 'GET /tools/GMAIL_NO_SUCH_TOOL');
    await rejectsComposio(h.client.getTool('GMAIL_SEND_EMAIL', { version: V2 }), { kind: 'permanent', status: 404, code: 2402 });
  });

  it('toolkitVersions pins a version per toolkit in a list, sent as toolkit_versions[slug]', async () => {
    h.fake.setCatalogVersion(2);
    const page = await h.client.listTools({ toolSlugs: ['GMAIL_SEND_EMAIL', 'SLACK_SEND_MESSAGE', 'GITHUB_CREATE_ISSUE'], toolkitVersions: { gmail: V1 } });
    assert.deepEqual(page.items.map((t) => [t.slug, t.version]), [['GMAIL_SEND_EMAIL', V1], ['SLACK_SEND_MESSAGE', V2], ['GITHUB_CREATE_ISSUE', V1]]);
    assert.deepEqual(h.fake.requests.at(-1)!.query['toolkit_versions[gmail]'], [V1]);
  });

  it('catalog version 2 changes schemas: a new required field, a removed field, a type change', async () => {
    h.fake.setCatalogVersion(2);
    const gmail = await h.client.getTool('GMAIL_SEND_EMAIL');
    assert.ok(gmail.input_parameters.properties?.['to'] && !gmail.input_parameters.properties['recipient_email']);
    const slack = await h.client.getTool('SLACK_SEND_MESSAGE');
    assert.equal(slack.input_parameters.properties?.['as_user'], undefined);
    const [before, after] = [await h.client.getTool('HUBSPOT_CREATE_CONTACT', { version: V1 }), await h.client.getTool('HUBSPOT_CREATE_CONTACT')];
    assert.equal(before.input_parameters.properties?.['phone']?.['type'], 'string');
    assert.equal(after.input_parameters.properties?.['phone']?.['type'], 'array');
  });
});

describe('Composio client: execute', () => {
  it('sends arguments, version, account, user and the idempotency key; returns the data', async () => {
    const result = await h.client.executeTool('GMAIL_SEND_EMAIL', {
      arguments: { recipient_email: 'customer@example.com', subject: 'Renewal', body: 'Hi!' },
      version: V1, connectedAccountId: 'ca_demo_gmail', userId: '11111111-1111-1111-1111-111111111111', idempotencyKey: 'env-seed-gmail-002',
    });
    assert.deepEqual(result, { data: { id: 'msg_1', threadId: 'thread_1', labelIds: ['SENT'] }, error: null, successful: true, log_id: 'log_fake_1' });

    const request = h.fake.requests.at(-1)!;
    assert.equal(request.path, '/tools/execute/GMAIL_SEND_EMAIL');
    assert.deepEqual(request.body, {
      arguments: { recipient_email: 'customer@example.com', subject: 'Renewal', body: 'Hi!' },
      version: V1, connected_account_id: 'ca_demo_gmail', user_id: '11111111-1111-1111-1111-111111111111',
    });
    assert.equal(request.headers['idempotency-key'], 'env-seed-gmail-002');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(h.fake.executions.length, 1);
    assert.equal(h.fake.executions[0]!.idempotencyKey, 'env-seed-gmail-002');
  });

  it('a tool that fails upstream resolves with successful: false (HTTP 200), not a throw', async () => {
    const missing = await h.client.executeTool('SLACK_SEND_MESSAGE', { arguments: { channel: '#does-not-exist', text: 'hi' }, version: V1, connectedAccountId: 'ca_demo_slack' });
    assert.deepEqual([missing.successful, missing.error, missing.data], [false, 'channel_not_found', {}]);

    h.fake.inject({ tool: 'SLACK_SEND_MESSAGE', fault: { type: 'tool_error', message: 'ratelimited by Slack' } });
    const limited = await h.client.executeTool('SLACK_SEND_MESSAGE', { arguments: { channel: '#general', text: 'hi' }, version: V1, connectedAccountId: 'ca_demo_slack' });
    assert.deepEqual([limited.successful, limited.error], [false, 'ratelimited by Slack']);
    assert.deepEqual(h.fake.executions.map((e) => e.successful), [false, false]);
  });

  it('arguments that do not fit the schema are a permanent 400 naming the field; nothing runs', async () => {
    const error = await rejectsComposio(
      h.client.executeTool('GMAIL_SEND_EMAIL', { arguments: { body: 'no recipient', cc: 'not-an-array' }, version: V1, connectedAccountId: 'ca_demo_gmail' }),
      { kind: 'permanent', status: 400, code: 1806 },
    );
    assert.deepEqual(error.errors, ["arguments must have required property 'recipient_email'", 'arguments.cc must be array']);
    assert.equal(h.fake.executions.length, 0);
  });

  it('after drift, the pinned version still runs and latest refuses the old arguments', async () => {
    h.fake.setCatalogVersion(2);
    const old = { recipient_email: 'a@example.com', body: 'hi' };
    const pinned = await h.client.executeTool('GMAIL_SEND_EMAIL', { arguments: old, version: V1, connectedAccountId: 'ca_demo_gmail' });
    assert.equal(pinned.successful, true);
    const drifted = await rejectsComposio(h.client.executeTool('GMAIL_SEND_EMAIL', { arguments: old, version: 'latest', connectedAccountId: 'ca_demo_gmail' }), { kind: 'permanent', status: 400 });
    assert.ok(drifted.errors?.includes("arguments must have required property 'to'"), String(drifted.errors));
    const hubspot = h.fake.addConnectedAccount({ toolkit: 'hubspot', userId: 'user-1' });
    const contact = { email: 'x@example.com', phone: '+1 555 0100' };
    const typed = await rejectsComposio(h.client.executeTool('HUBSPOT_CREATE_CONTACT', { arguments: contact, version: V2, connectedAccountId: hubspot }), { kind: 'permanent', status: 400 });
    assert.deepEqual(typed.errors, ['arguments.phone must be array']);
    await h.client.executeTool('HUBSPOT_CREATE_CONTACT', { arguments: contact, version: V1, connectedAccountId: hubspot });
    assert.deepEqual(h.fake.executions.map((e) => [e.tool, e.version]), [['GMAIL_SEND_EMAIL', V1], ['HUBSPOT_CREATE_CONTACT', V1]]);
  });

  it('an account that cannot act is refused before the tool runs: expired 410 (or 422), inactive 422, unknown 404', async () => {
    const run = (account: string, tool = 'HUBSPOT_CREATE_CONTACT', args: Record<string, unknown> = { email: 'x@example.com' }) =>
      h.client.executeTool(tool, { arguments: args, version: V1, connectedAccountId: account });
    const expired = await rejectsComposio(run('ca_demo_hubspot'), { kind: 'permanent', status: 410, code: 1820 });
    assert.match(expired.providerMessage!, /EXPIRED state/);
    h.fake.setExpiredAccountStatus(422);
    await rejectsComposio(run('ca_demo_hubspot'), { kind: 'permanent', status: 422, code: 1820 });
    await rejectsComposio(run('ca_inactive_gmail', 'GMAIL_FETCH_EMAILS', {}), { kind: 'permanent', status: 422, code: 1821 });
    await rejectsComposio(run('ca_demo_github', 'GITHUB_GET_THE_AUTHENTICATED_USER', {}), { kind: 'permanent', status: 422 });
    await rejectsComposio(run('ca_nobody'), { kind: 'permanent', status: 404, code: 1803 });
    await rejectsComposio(run('ca_demo_slack'), { kind: 'permanent', status: 400 }); // a slack account for a hubspot tool
    assert.equal(h.fake.executions.length, 0);
  });

  it('a slug with path characters stays one path segment', async () => {
    await rejectsComposio(h.client.getTool('../connected_accounts/ca_demo_gmail'), { kind: 'permanent', status: 404, code: 2401 });
    assert.equal(h.fake.requests.at(-1)!.route, 'tools.get');
  });
});

describe('Composio client: toolkits', () => {
  it('listToolkits and iterateToolkits page through the toolkits with their meta', async () => {
    const page = await h.client.listToolkits({ limit: 3 });
    assert.deepEqual(page.items.map((t) => t.slug), ['gmail', 'slack', 'hubspot']);
    assert.equal(page.items[1]!.meta.tools_count, 3, 'the deprecated slack tool is not counted');
    assert.deepEqual(page.items[0]!.meta.categories, [{ id: 'email', name: 'Email' }]);
    const all = await collect(h.client.iterateToolkits({ limit: 3 }));
    assert.deepEqual(all.map((t) => t.slug), ['gmail', 'slack', 'hubspot', 'github']);
    const crm = await h.client.listToolkits({ category: 'crm' });
    assert.deepEqual(crm.items.map((t) => t.slug), ['hubspot']);
  });

  it('getToolkit returns the detail with its versions; an unknown toolkit is a permanent 404', async () => {
    h.fake.setCatalogVersion(2);
    const gmail = await h.client.getToolkit('gmail');
    assert.deepEqual([gmail.meta.version, gmail.meta.available_versions], [V2, [V1, V2]]);
    const github = await h.client.getToolkit('github');
    assert.deepEqual(github.meta.available_versions, [V1]);
    await rejectsComposio(h.client.getToolkit('salesforce'), { kind: 'permanent', status: 404 });
  });
});
