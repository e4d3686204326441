// A tool as Composio lists it → the catalog entry the sync stores (tool_catalog's columns),
// with its risk tier from the rule. A tool the catalog cannot hold is skipped with the
// field named, rather than failing its whole page forever.
import type { CurrentTool } from '../../domain/catalog-drift.ts';
import { deriveRisk } from '../../domain/risk-rule.ts';
import { jsonObject, KIB, toolSlug } from '../../services/validation.ts';
import type { Tool } from './schemas.ts';

export type CatalogEntryResult = { ok: true; tool: CurrentTool } | { ok: false; slug: string; field: string; reason: string };

// tool_catalog.schema's CHECK (001_init).
const schemaFits = jsonObject(256 * KIB);

export function toCatalogEntry(tool: Tool, toolkit: string): CatalogEntryResult {
  const skip = (field: string, reason: string): CatalogEntryResult => ({ ok: false, slug: tool.slug, field, reason });
  if (!toolSlug.safeParse(tool.slug).success) return skip('slug', 'is not a single token of at most 200 characters');
  if (tool.version.length > 64) return skip('version', 'is longer than 64 characters');
  const schema = schemaFits.safeParse(tool.input_parameters);
  if (!schema.success) return skip('input_parameters', schema.error.issues[0]?.message ?? 'cannot be stored');
  return {
    ok: true,
    tool: {
      slug: tool.slug,
      version: tool.version,
      displayName: blankToNull(tool.name),
      description: blankToNull(tool.description),
      schema: schema.data,
      requiredScopes: [...new Set(tool.scopes)],
      derivedRisk: deriveRisk({ slug: tool.slug, toolkit, tags: tool.tags }).tier,
    },
  };
}

const blankToNull = (text: string): string | null => (text.trim() === '' ? null : text);
