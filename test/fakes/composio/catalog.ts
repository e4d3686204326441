// The fake's toolkits and tools: real Composio slugs, JSON-Schema parameters written the
// way Composio writes them (title, description, examples, required), toolkit versions in
// Composio's `YYYYMMDD_NN` form, and a scripted handler per tool.
//
// Two catalog versions, for drift tests:
//   1 — every toolkit at 20250909_00;
//   2 — gmail, slack and hubspot also at 20251120_00 (now their latest), with changes:
//       GMAIL_SEND_EMAIL   `recipient_email` removed, `to` added and required;
//       SLACK_SEND_MESSAGE `as_user` removed (an optional `markdown_text` added);
//       HUBSPOT_CREATE_CONTACT `phone` changes type, string → array of strings.
//     github stays at 20250909_00. 20250909_00 stays callable by name, as pinned
//     versions stay callable on Composio.
//
// Synthetic tools (syntheticTools below) pad a toolkit to any size, for pagination and
// volume tests; they are the same in both catalog versions.

export const V1 = '20250909_00';
export const V2 = '20251120_00';
/** Composio's base version: the first version of each toolkit. */
export const BASE_VERSION = '00000000_00';

export type CatalogVersion = 1 | 2;
export type JsonSchema = Record<string, unknown>;

export interface FakeToolkit {
  slug: string;
  name: string;
  description: string;
  logo: string;
  appUrl: string;
  categories: { id: string; name: string }[];
  authSchemes: string[];
}

export interface ToolRunContext {
  /** 1 for the first execution of this tool since the last reset, and so on. */
  sequence: number;
  arguments: Record<string, unknown>;
  version: string;
}

/** `data` on success; a string is an upstream failure (200 with `successful: false`). */
export type ToolOutcome = { data: Record<string, unknown> } | { error: string };

export interface FakeTool {
  slug: string;
  toolkit: string;
  name: string;
  description: string;
  tags: string[];
  scopes: string[];
  deprecated?: boolean;
  /** Parameters from the version at which they took effect; later versions keep them until the next entry. */
  inputs: Record<string, JsonSchema>;
  output: JsonSchema;
  run(context: ToolRunContext): ToolOutcome;
}

export const TOOLKITS: FakeToolkit[] = [
  { slug: 'gmail', name: 'Gmail', description: 'Send, read and organise email in Gmail.', logo: 'https://logos.composio.dev/api/gmail', appUrl: 'https://mail.google.com', categories: [{ id: 'email', name: 'Email' }], authSchemes: ['OAUTH2'] },
  { slug: 'slack', name: 'Slack', description: 'Post and read messages in Slack workspaces.', logo: 'https://logos.composio.dev/api/slack', appUrl: 'https://slack.com', categories: [{ id: 'communication', name: 'Communication' }], authSchemes: ['OAUTH2'] },
  { slug: 'hubspot', name: 'HubSpot', description: 'Contacts, companies and deals in the HubSpot CRM.', logo: 'https://logos.composio.dev/api/hubspot', appUrl: 'https://app.hubspot.com', categories: [{ id: 'crm', name: 'CRM' }], authSchemes: ['OAUTH2'] },
  { slug: 'github', name: 'GitHub', description: 'Repositories, issues and pull requests on GitHub.', logo: 'https://logos.composio.dev/api/github', appUrl: 'https://github.com', categories: [{ id: 'developer-tools', name: 'Developer Tools' }], authSchemes: ['OAUTH2'] },
];

/** The versions each toolkit offers, oldest first, per catalog version. */
export const TOOLKIT_VERSIONS: Record<CatalogVersion, Record<string, string[]>> = {
  1: { gmail: [V1], slack: [V1], hubspot: [V1], github: [V1] },
  2: { gmail: [V1, V2], slack: [V1, V2], hubspot: [V1, V2], github: [V1] },
};

const str = (title: string, description: string, examples?: unknown[]): JsonSchema => ({ type: 'string', title, description, ...(examples ? { examples } : {}) });
const bool = (title: string, description: string, fallback: boolean): JsonSchema => ({ type: 'boolean', title, description, default: fallback });
const strings = (title: string, description: string): JsonSchema => ({ type: 'array', items: { type: 'string' }, title, description, default: [] });
const object = (title: string, properties: Record<string, JsonSchema>, required: string[]): JsonSchema => ({ type: 'object', title, properties, required });

// Composio wraps every tool's output as {data, error, successful}.
const output = (title: string, data: Record<string, JsonSchema>): JsonSchema => object(title, {
  data: { type: 'object', title: 'Data', properties: data },
  error: { type: 'string', title: 'Error', nullable: true, default: null },
  successful: { type: 'boolean', title: 'Successful' },
}, ['data', 'successful']);

const text = (args: Record<string, unknown>, name: string): string => {
  const value = args[name];
  return typeof value === 'string' ? value : '';
};
const ts = (sequence: number): string => `1763600000.${String(sequence).padStart(6, '0')}`;

const gmailSendV1 = object('SendEmailRequest', {
  recipient_email: str('Recipient Email', "The primary recipient's email address.", ['john@doe.com']),
  subject: str('Subject', 'Subject line of the email.'),
  body: str('Body', 'Email content, plain text or HTML (see is_html).'),
  cc: strings('Cc', 'Carbon-copy recipients.'),
  bcc: strings('Bcc', 'Blind carbon-copy recipients.'),
  is_html: bool('Is Html', 'Whether body is HTML.', false),
  user_id: { ...str('User Id', "The user's email address or 'me' for the authenticated user."), default: 'me' },
}, ['recipient_email', 'body']);

const gmailSendV2 = object('SendEmailRequest', {
  to: str('To', "The primary recipient's email address.", ['john@doe.com']),
  subject: str('Subject', 'Subject line of the email.'),
  body: str('Body', 'Email content, plain text or HTML (see is_html).'),
  cc: strings('Cc', 'Carbon-copy recipients.'),
  bcc: strings('Bcc', 'Blind carbon-copy recipients.'),
  is_html: bool('Is Html', 'Whether body is HTML.', false),
  user_id: { ...str('User Id', "The user's email address or 'me' for the authenticated user."), default: 'me' },
}, ['to', 'body']);

const slackSendV1 = object('SendMessageRequest', {
  channel: str('Channel', 'Channel ID or name to post to.', ['#general', 'C01234567']),
  text: str('Text', 'The message text.'),
  thread_ts: str('Thread Ts', "Parent message's ts, to reply in a thread."),
  as_user: bool('As User', 'Post as the authenticated user rather than the bot.', false),
}, ['channel', 'text']);

const slackSendV2 = object('SendMessageRequest', {
  channel: str('Channel', 'Channel ID or name to post to.', ['#general', 'C01234567']),
  text: str('Text', 'The message text.'),
  markdown_text: str('Markdown Text', 'The message as Markdown, instead of text.'),
  thread_ts: str('Thread Ts', "Parent message's ts, to reply in a thread."),
}, ['channel', 'text']);

const hubspotContact = (phone: JsonSchema): JsonSchema => object('CreateContactRequest', {
  email: str('Email', "The contact's email address.", ['jane@example.com']),
  firstname: str('Firstname', 'First name.'),
  lastname: str('Lastname', 'Last name.'),
  company: str('Company', 'Company name.'),
  phone,
}, ['email']);

// Slack answers channel_not_found for a channel that does not exist: a tool-level failure.
const slackPost = ({ arguments: args, sequence }: ToolRunContext): ToolOutcome => text(args, 'channel') === '#does-not-exist'
  ? { error: 'channel_not_found' }
  : { data: { ok: true, channel: text(args, 'channel'), ts: ts(sequence), message: { text: text(args, 'text') } } };

export const TOOLS: FakeTool[] = [
  {
    slug: 'GMAIL_SEND_EMAIL', toolkit: 'gmail', name: 'Send Email', description: 'Sends an email via the Gmail API using the authenticated user’s account.',
    tags: ['important', 'email'], scopes: ['https://www.googleapis.com/auth/gmail.send'],
    inputs: { [V1]: gmailSendV1, [V2]: gmailSendV2 },
    output: output('SendEmailResponse', { id: { type: 'string' }, threadId: { type: 'string' }, labelIds: { type: 'array' } }),
    run: ({ sequence }) => ({ data: { id: `msg_${sequence}`, threadId: `thread_${sequence}`, labelIds: ['SENT'] } }),
  },
  {
    slug: 'GMAIL_CREATE_EMAIL_DRAFT', toolkit: 'gmail', name: 'Create Email Draft', description: 'Creates a Gmail email draft.',
    tags: ['email'], scopes: ['https://www.googleapis.com/auth/gmail.compose'],
    inputs: { [V1]: object('CreateEmailDraftRequest', { recipient_email: str('Recipient Email', 'Primary recipient.'), subject: str('Subject', 'Subject line.'), body: str('Body', 'Draft content.') }, ['recipient_email', 'subject', 'body']) },
    output: output('CreateEmailDraftResponse', { id: { type: 'string' }, message: { type: 'object' } }),
    run: ({ sequence }) => ({ data: { id: `r-${sequence}`, message: { id: `msg_draft_${sequence}`, threadId: `thread_draft_${sequence}` } } }),
  },
  {
    slug: 'GMAIL_FETCH_EMAILS', toolkit: 'gmail', name: 'Fetch Emails', description: 'Fetches a list of email messages, optionally filtered by a Gmail query.',
    tags: ['important', 'email'], scopes: ['https://www.googleapis.com/auth/gmail.readonly'],
    inputs: { [V1]: object('FetchEmailsRequest', { query: str('Query', "Gmail search query, e.g. 'is:unread'."), max_results: { type: 'integer', title: 'Max Results', minimum: 1, maximum: 500, default: 10 } }, []) },
    output: output('FetchEmailsResponse', { messages: { type: 'array' }, resultSizeEstimate: { type: 'integer' } }),
    run: () => ({ data: { messages: [{ messageId: 'msg_1', subject: 'Renewal check-in', sender: 'customer@example.com' }], resultSizeEstimate: 1 } }),
  },
  {
    slug: 'GMAIL_ADD_LABEL_TO_EMAIL', toolkit: 'gmail', name: 'Modify Email Labels', description: 'Adds and/or removes labels on a Gmail message.',
    tags: ['email'], scopes: ['https://www.googleapis.com/auth/gmail.modify'],
    inputs: { [V1]: object('AddLabelToEmailRequest', { message_id: str('Message Id', 'The message to change.'), add_label_ids: strings('Add Label Ids', 'Labels to add.'), remove_label_ids: strings('Remove Label Ids', 'Labels to remove.') }, ['message_id']) },
    output: output('AddLabelToEmailResponse', { id: { type: 'string' }, labelIds: { type: 'array' } }),
    run: ({ arguments: args }) => ({ data: { id: text(args, 'message_id'), labelIds: args['add_label_ids'] ?? [] } }),
  },
  {
    slug: 'SLACK_SEND_MESSAGE', toolkit: 'slack', name: 'Send message to a Slack channel', description: 'Posts a message to a Slack channel, direct message or private group.',
    tags: ['important', 'chat'], scopes: ['chat:write'],
    inputs: { [V1]: slackSendV1, [V2]: slackSendV2 },
    output: output('SendMessageResponse', { ok: { type: 'boolean' }, channel: { type: 'string' }, ts: { type: 'string' } }),
    run: slackPost,
  },
  {
    slug: 'SLACK_CHAT_POST_MESSAGE', toolkit: 'slack', name: 'Post message (deprecated)', description: 'Deprecated: use SLACK_SEND_MESSAGE.',
    tags: ['chat'], scopes: ['chat:write'], deprecated: true,
    inputs: { [V1]: slackSendV1 },
    output: output('ChatPostMessageResponse', { ok: { type: 'boolean' }, channel: { type: 'string' }, ts: { type: 'string' } }),
    run: slackPost,
  },
  {
    slug: 'SLACK_FETCH_CONVERSATION_HISTORY', toolkit: 'slack', name: 'Fetch conversation history', description: 'Fetches the messages of a Slack conversation.',
    tags: ['chat'], scopes: ['channels:history'],
    inputs: { [V1]: object('FetchConversationHistoryRequest', { channel: str('Channel', 'Conversation ID.'), limit: { type: 'integer', title: 'Limit', minimum: 1, maximum: 999, default: 100 } }, ['channel']) },
    output: output('FetchConversationHistoryResponse', { ok: { type: 'boolean' }, messages: { type: 'array' } }),
    run: ({ arguments: args }) => ({ data: { ok: true, channel: text(args, 'channel'), messages: [{ ts: ts(1), text: 'Weekly pipeline summary is ready.' }] } }),
  },
  {
    slug: 'SLACK_DELETE_MESSAGE', toolkit: 'slack', name: 'Delete a message', description: 'Deletes a message from a Slack channel.',
    tags: ['chat'], scopes: ['chat:write'],
    inputs: { [V1]: object('DeleteMessageRequest', { channel: str('Channel', 'Conversation ID.'), ts: str('Ts', 'Timestamp of the message to delete.') }, ['channel', 'ts']) },
    output: output('DeleteMessageResponse', { ok: { type: 'boolean' } }),
    run: ({ arguments: args }) => ({ data: { ok: true, channel: text(args, 'channel'), ts: text(args, 'ts') } }),
  },
  {
    slug: 'HUBSPOT_CREATE_CONTACT', toolkit: 'hubspot', name: 'Create contact', description: 'Creates a contact in HubSpot.',
    tags: ['important', 'crm'], scopes: ['crm.objects.contacts.write'],
    inputs: {
      [V1]: hubspotContact(str('Phone', 'Phone number.')),
      [V2]: hubspotContact({ type: 'array', items: { type: 'string' }, title: 'Phone', description: 'Phone numbers.' }),
    },
    output: output('CreateContactResponse', { id: { type: 'string' }, properties: { type: 'object' } }),
    run: ({ arguments: args, sequence }) => ({ data: { id: String(100 + sequence), properties: { ...args }, createdAt: '2025-11-20T10:00:00.000Z', archived: false } }),
  },
  {
    slug: 'HUBSPOT_CREATE_DEAL', toolkit: 'hubspot', name: 'Create deal', description: 'Creates a deal in HubSpot.',
    tags: ['crm'], scopes: ['crm.objects.deals.write'],
    inputs: { [V1]: object('CreateDealRequest', { dealname: str('Dealname', 'Name of the deal.'), amount: { type: 'number', title: 'Amount' }, dealstage: str('Dealstage', 'Pipeline stage.') }, ['dealname']) },
    output: output('CreateDealResponse', { id: { type: 'string' }, properties: { type: 'object' } }),
    run: ({ arguments: args, sequence }) => ({ data: { id: `D-${2000 + sequence}`, properties: { ...args } } }),
  },
  {
    slug: 'HUBSPOT_UPDATE_DEAL', toolkit: 'hubspot', name: 'Update deal', description: "Changes a deal's stage or amount.",
    tags: ['crm'], scopes: ['crm.objects.deals.write'],
    inputs: { [V1]: object('UpdateDealRequest', { deal_id: str('Deal Id', 'The deal to update.'), dealstage: str('Dealstage', 'Pipeline stage.'), amount: { type: 'number', title: 'Amount' } }, ['deal_id']) },
    output: output('UpdateDealResponse', { id: { type: 'string' }, properties: { type: 'object' } }),
    run: ({ arguments: args }) => ({ data: { id: text(args, 'deal_id'), properties: { ...args } } }),
  },
  {
    slug: 'GITHUB_CREATE_ISSUE', toolkit: 'github', name: 'Create an issue', description: 'Creates an issue in a GitHub repository.',
    tags: ['important', 'issues'], scopes: ['repo'],
    inputs: { [V1]: object('CreateIssueRequest', { owner: str('Owner', 'Repository owner.'), repo: str('Repo', 'Repository name.'), title: str('Title', 'Issue title.'), body: str('Body', 'Issue body.'), labels: strings('Labels', 'Labels to add.') }, ['owner', 'repo', 'title']) },
    output: output('CreateIssueResponse', { number: { type: 'integer' }, html_url: { type: 'string' } }),
    run: ({ arguments: args, sequence }) => ({ data: { number: sequence, html_url: `https://github.com/${text(args, 'owner')}/${text(args, 'repo')}/issues/${sequence}` } }),
  },
  {
    slug: 'GITHUB_GET_THE_AUTHENTICATED_USER', toolkit: 'github', name: 'Get the authenticated user', description: 'Gets the profile of the authenticated GitHub user.',
    tags: ['users'], scopes: ['read:user'],
    inputs: { [V1]: object('GetTheAuthenticatedUserRequest', {}, []) },
    output: output('GetTheAuthenticatedUserResponse', { login: { type: 'string' } }),
    run: () => ({ data: { login: 'steward-demo', id: 4242 } }),
  },
];

/** The parameters of `tool` at toolkit `version`: those of the latest entry not after it. */
export function inputAt(tool: FakeTool, version: string): JsonSchema | undefined {
  const taking = Object.keys(tool.inputs).filter((v) => v <= version).sort();
  const key = taking.at(-1);
  return key === undefined ? undefined : tool.inputs[key];
}

// Verbs the synthetic tools cycle through, so that they span the risk rule's tiers.
const SYNTHETIC_VERBS = ['LIST', 'GET', 'CREATE', 'UPDATE', 'SEND', 'DELETE'] as const;

/**
 * `count` generated tools for `toolkit`: `GMAIL_LIST_SYNTHETIC_001`, `GMAIL_GET_SYNTHETIC_002`, …,
 * each with a small schema of its own (a required `id`, and an optional field whose type
 * varies), deterministic so that tests can predict the catalog.
 */
export function syntheticTools(toolkit: string, count: number): FakeTool[] {
  const tools: FakeTool[] = [];
  for (let i = 1; i <= count; i++) {
    const verb = SYNTHETIC_VERBS[(i - 1) % SYNTHETIC_VERBS.length]!;
    const n = String(i).padStart(3, '0');
    const extra: JsonSchema = i % 3 === 0 ? strings('Tags', 'Tags to apply.') : i % 3 === 1 ? str('Note', 'A note.') : { type: 'integer', title: 'Count', minimum: 1 };
    tools.push({
      slug: `${toolkit.toUpperCase()}_${verb}_SYNTHETIC_${n}`,
      toolkit,
      name: `Synthetic ${verb.toLowerCase()} ${n}`,
      description: `Generated tool ${n} of ${toolkit}.`,
      tags: ['synthetic'],
      scopes: [`${toolkit}.synthetic.${verb.toLowerCase()}`],
      inputs: { [V1]: object(`Synthetic${n}Request`, { id: str('Id', 'What to act on.'), [`field_${n}`]: extra }, ['id']) },
      output: output(`Synthetic${n}Response`, { ok: { type: 'boolean' } }),
      run: ({ arguments: args }) => ({ data: { ok: true, id: text(args, 'id') } }),
    });
  }
  return tools;
}
