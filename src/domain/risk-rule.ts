// The risk tier a synced tool gets when its tenant has not chosen one. The tier picks the
// retry policy (src/domain/retry-policy.ts) and is what people read when they approve, so
// the rule is deliberately simple enough to predict, and errs towards the higher tier.
// A tenant overrides it per tool (public.tool_risk_overrides).
//
// First match wins:
//   1. tag `destructiveHint` (Composio's MCP-style annotation)          → high
//   2. a word of the slug in HIGH_RISK_WORDS (DELETE, MERGE, BULK, …)    → high
//   3. tag `readOnlyHint`                                                 → low
//   4. a word of the slug in MEDIUM_RISK_WORDS (CREATE, UPDATE, SEND, …)  → medium
//   5. a word of the slug in LOW_RISK_WORDS (GET, LIST, FETCH, …)         → low
//   6. otherwise                                                          → medium (the outbox default)
// Words are the slug's parts split on anything not a letter or digit, upper-cased, after
// the toolkit's own prefix (`GMAIL_`): whole words only, so DRAFTS is not DRAFT. A write
// word anywhere outranks a read word (`GET_AND_SEND` is medium): one verb is enough to act.
import type { RiskTier } from '../services/validation.ts';

export const HIGH_RISK_WORDS: ReadonlySet<string> = new Set([
  'DELETE', 'REMOVE', 'DESTROY', 'PURGE', 'TRASH', 'ERASE', 'WIPE', 'MERGE', 'BULK', 'BATCH', 'MASS',
  'REVOKE', 'TRANSFER', 'REFUND', 'CHARGE', 'PAY',
]);

export const MEDIUM_RISK_WORDS: ReadonlySet<string> = new Set([
  'CREATE', 'UPDATE', 'SEND', 'POST', 'ADD', 'MODIFY', 'EDIT', 'PATCH', 'PUT', 'REPLY', 'FORWARD', 'UPLOAD',
  'SET', 'MOVE', 'INVITE', 'SCHEDULE', 'DRAFT', 'INSERT', 'UPSERT', 'COPY', 'SHARE', 'STAR', 'MARK', 'ARCHIVE',
  'ASSIGN', 'START', 'STOP', 'CLOSE', 'OPEN', 'RENAME', 'ENABLE', 'DISABLE', 'REACT', 'PIN', 'UNPIN', 'APPROVE',
  'SUBMIT', 'PUBLISH', 'RUN', 'EXECUTE', 'TRIGGER', 'WRITE',
]);

export const LOW_RISK_WORDS: ReadonlySet<string> = new Set([
  'GET', 'LIST', 'FETCH', 'SEARCH', 'FIND', 'READ', 'RETRIEVE', 'QUERY', 'VIEW', 'DOWNLOAD', 'COUNT', 'CHECK',
  'DESCRIBE', 'LOOKUP', 'EXPORT',
]);

export interface RiskRuleInput {
  /** The tool's slug, `GMAIL_SEND_EMAIL`. */
  slug: string;
  /** Its toolkit, `gmail`: the slug's prefix, which is not a verb. */
  toolkit?: string;
  /** Composio's tags for the tool. */
  tags?: readonly string[];
}

export interface DerivedRisk {
  tier: RiskTier;
  /** Which step of the rule decided, for people: `slug word DELETE`. */
  reason: string;
}

/** The words of a slug after its toolkit prefix, upper-cased. */
export function slugWords(slug: string, toolkit?: string): string[] {
  const words = slug.toUpperCase().split(/[^A-Z0-9]+/).filter((w) => w !== '');
  const prefix = toolkit?.toUpperCase().split(/[^A-Z0-9]+/).filter((w) => w !== '') ?? [];
  const hasPrefix = prefix.length > 0 && prefix.every((w, i) => words[i] === w);
  return hasPrefix ? words.slice(prefix.length) : words;
}

export function deriveRisk({ slug, toolkit, tags = [] }: RiskRuleInput): DerivedRisk {
  const words = slugWords(slug, toolkit);
  const word = (set: ReadonlySet<string>) => words.find((w) => set.has(w));
  if (tags.includes('destructiveHint')) return { tier: 'high', reason: 'tag destructiveHint' };
  const high = word(HIGH_RISK_WORDS);
  if (high !== undefined) return { tier: 'high', reason: `slug word ${high}` };
  if (tags.includes('readOnlyHint')) return { tier: 'low', reason: 'tag readOnlyHint' };
  const medium = word(MEDIUM_RISK_WORDS);
  if (medium !== undefined) return { tier: 'medium', reason: `slug word ${medium}` };
  const low = word(LOW_RISK_WORDS);
  if (low !== undefined) return { tier: 'low', reason: `slug word ${low}` };
  return { tier: 'medium', reason: 'no known verb in the slug' };
}
