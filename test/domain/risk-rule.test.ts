import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveRisk, HIGH_RISK_WORDS, LOW_RISK_WORDS, MEDIUM_RISK_WORDS, slugWords } from '../../src/domain/risk-rule.ts';

describe('risk rule', () => {
  const cases: [string, string, string[], 'low' | 'medium' | 'high', string][] = [
    ['GMAIL_FETCH_EMAILS', 'gmail', [], 'low', 'slug word FETCH'],
    ['GITHUB_GET_THE_AUTHENTICATED_USER', 'github', [], 'low', 'slug word GET'],
    ['SLACK_FETCH_CONVERSATION_HISTORY', 'slack', [], 'low', 'slug word FETCH'],
    ['HUBSPOT_LIST_DEALS', 'hubspot', [], 'low', 'slug word LIST'],
    ['GMAIL_SEND_EMAIL', 'gmail', ['important'], 'medium', 'slug word SEND'],
    ['GMAIL_CREATE_EMAIL_DRAFT', 'gmail', [], 'medium', 'slug word CREATE'],
    ['HUBSPOT_UPDATE_DEAL', 'hubspot', [], 'medium', 'slug word UPDATE'],
    ['SLACK_CHAT_POST_MESSAGE', 'slack', [], 'medium', 'slug word POST'],
    ['SLACK_DELETE_MESSAGE', 'slack', [], 'high', 'slug word DELETE'],
    ['HUBSPOT_MERGE_CONTACTS', 'hubspot', [], 'high', 'slug word MERGE'],
    ['GMAIL_BATCH_MODIFY_MESSAGES', 'gmail', [], 'high', 'slug word BATCH'],
    ['GMAIL_BULK_LABEL', 'gmail', [], 'high', 'slug word BULK'],
    // A write word anywhere outranks a read word; a destructive one outranks both.
    ['GMAIL_FETCH_AND_SEND', 'gmail', [], 'medium', 'slug word SEND'],
    ['GMAIL_LIST_AND_DELETE_DRAFTS', 'gmail', [], 'high', 'slug word DELETE'],
    // Whole words: DRAFTS is no DRAFT, SCHEDULED no SCHEDULE.
    ['GMAIL_LIST_DRAFTS', 'gmail', [], 'low', 'slug word LIST'],
    ['SLACK_LIST_SCHEDULED_MESSAGES', 'slack', [], 'low', 'slug word LIST'],
    // Tags.
    ['NOTION_ARCHIVE_PAGE', 'notion', ['destructiveHint'], 'high', 'tag destructiveHint'],
    ['NOTION_CREATE_VIEW', 'notion', ['readOnlyHint'], 'low', 'tag readOnlyHint'],
    ['NOTION_DELETE_BLOCK', 'notion', ['readOnlyHint'], 'high', 'slug word DELETE'],
    // Nothing known: the outbox default.
    ['ZENDESK_TICKETS', 'zendesk', [], 'medium', 'no known verb in the slug'],
    // The seed's slug style.
    ['GMAIL__drafts.create', 'gmail', [], 'medium', 'slug word CREATE'],
    ['SLACK__chat.postMessage', 'slack', [], 'medium', 'no known verb in the slug'],
  ];
  for (const [slug, toolkit, tags, tier, reason] of cases) {
    it(`${slug}${tags.length ? ` [${tags.join(', ')}]` : ''} → ${tier} (${reason})`, () => {
      assert.deepEqual(deriveRisk({ slug, toolkit, tags }), { tier, reason });
    });
  }

  it("the toolkit's prefix is not read as a verb", () => {
    assert.deepEqual(slugWords('SENDGRID_LIST_CONTACTS', 'sendgrid'), ['LIST', 'CONTACTS']);
    assert.equal(deriveRisk({ slug: 'SENDGRID_LIST_CONTACTS', toolkit: 'sendgrid' }).tier, 'low');
    // A multi-word toolkit slug, and a slug without the prefix.
    assert.deepEqual(slugWords('GOOGLE_SHEETS_GET_ROWS', 'google_sheets'), ['GET', 'ROWS']);
    assert.deepEqual(slugWords('SEND_DIGEST', 'gmail'), ['SEND', 'DIGEST']);
    assert.deepEqual(slugWords('GMAIL_SEND_EMAIL'), ['GMAIL', 'SEND', 'EMAIL']);
  });

  it('the word lists do not overlap', () => {
    for (const w of HIGH_RISK_WORDS) assert.ok(!MEDIUM_RISK_WORDS.has(w) && !LOW_RISK_WORDS.has(w), w);
    for (const w of MEDIUM_RISK_WORDS) assert.ok(!LOW_RISK_WORDS.has(w), w);
  });
});
