// How one tool in a tenant's stored catalog differs from what Composio lists now: the
// catalog_audit row to write, if any. Pure; the drift monitor loads and records.
//
// What counts as a change: the input schema (schema-diff.ts), the display name, the
// description, the required scopes and the tier the risk rule derives. A new version
// whose tool is otherwise identical is not drift: Composio versions whole toolkits, so
// one release bumps every tool in it; the catalog stores the new version all the same,
// and the run's audit_log entry counts it (`version_only`).
import { isDeepStrictEqual } from 'node:util';
import type { RiskTier } from '../services/validation.ts';
import { diffSchemas, type SchemaDiff } from './schema-diff.ts';

/** A tool as Composio lists it now, in the catalog's terms. */
export interface CurrentTool {
  slug: string;
  version: string;
  displayName: string | null;
  description: string | null;
  schema: Record<string, unknown>;
  requiredScopes: string[];
  derivedRisk: RiskTier;
}

/** The catalog's current entry for a slug (its most recently updated version). */
export interface StoredTool {
  slug: string;
  version: string;
  displayName: string | null;
  description: string | null;
  schema: Record<string, unknown>;
  requiredScopes: string[];
  /** null for rows the sync did not write (seeded by hand). */
  derivedRisk: RiskTier | null;
  /** Composio stopped listing it (tool_catalog.removed_at is set). */
  removed: boolean;
}

export interface FieldChange {
  field: 'display_name' | 'description' | 'required_scopes' | 'risk';
  from: unknown;
  to: unknown;
}

/** catalog_audit.diff. */
export interface ToolDiff {
  /** The input schema's changes (changed only). */
  schema?: SchemaDiff;
  /** Other fields that changed (changed only). */
  fields?: FieldChange[];
  /** added only: the tool had been listed before, then removed, and is back. */
  readded?: true;
}

/** One catalog_audit row. */
export interface ToolChange {
  slug: string;
  change: 'added' | 'removed' | 'changed';
  fromVersion: string | null;
  toVersion: string | null;
  /** A removal, or a breaking schema change: pending envelopes for the tool are held for approval. */
  breaking: boolean;
  diff: ToolDiff;
}

export type ToolComparison =
  | { outcome: 'unchanged' }
  | { outcome: 'version_only' }
  | { outcome: 'added' | 'changed'; change: ToolChange };

export function compareTool(stored: StoredTool | undefined, current: CurrentTool): ToolComparison {
  if (stored === undefined || stored.removed) {
    return {
      outcome: 'added',
      change: {
        slug: current.slug, change: 'added', fromVersion: stored?.version ?? null, toVersion: current.version, breaking: false,
        diff: stored === undefined ? {} : { readded: true },
      },
    };
  }
  const schema = diffSchemas(stored.schema, current.schema);
  const fields: FieldChange[] = [];
  const field = (name: FieldChange['field'], from: unknown, to: unknown) => {
    if (!isDeepStrictEqual(from, to)) fields.push({ field: name, from, to });
  };
  field('display_name', stored.displayName, current.displayName);
  field('description', stored.description, current.description);
  // Scopes are a set; Composio's order carries no meaning.
  field('required_scopes', [...stored.requiredScopes].sort(), [...current.requiredScopes].sort());
  // A hand-seeded row has no derived tier to compare.
  if (stored.derivedRisk !== null) field('risk', stored.derivedRisk, current.derivedRisk);

  if (schema.changes.length === 0 && fields.length === 0) {
    return { outcome: stored.version === current.version ? 'unchanged' : 'version_only' };
  }
  const diff: ToolDiff = {};
  if (schema.changes.length > 0) diff.schema = schema;
  if (fields.length > 0) diff.fields = fields;
  return {
    outcome: 'changed',
    change: { slug: current.slug, change: 'changed', fromVersion: stored.version, toVersion: current.version, breaking: schema.breaking, diff },
  };
}

/** A stored tool Composio no longer lists. Breaking: an envelope for it cannot run as written. */
export function removedTool(stored: Pick<StoredTool, 'slug' | 'version'>): ToolChange {
  return { slug: stored.slug, change: 'removed', fromVersion: stored.version, toVersion: null, breaking: true, diff: {} };
}
