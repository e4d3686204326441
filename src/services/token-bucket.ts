// Token buckets kept in the database (public.rate_buckets, steward.take_tokens in
// 007_composio_catalog): every worker process, on any machine, draws from the same
// bucket, and a restart forgets nothing. Service role only.
import { z } from 'zod';
import type { Access } from './access.ts';
import { parseInput, uuid } from './validation.ts';

export interface BucketConfig {
  /** The bucket's name within the tenant: `composio.catalog`. */
  bucket: string;
  /** The most tokens it holds (and starts with). */
  capacity: number;
  /** Tokens regained per second, up to the capacity. */
  refillPerSecond: number;
}

export interface TakeTokensInput extends BucketConfig {
  tenantId: string;
  /** Tokens wanted; at most the capacity. */
  n: number;
  now: Date;
}

export interface TakeTokensResult {
  granted: boolean;
  /** 0 when granted; otherwise how long until `n` tokens will be there. */
  waitMs: number;
  /** Tokens left after this call. */
  tokens: number;
}

const positive = z.number().finite().positive();
export const takeTokensInput = z.strictObject({
  tenantId: uuid,
  bucket: z.string().trim().min(1).max(200),
  n: positive,
  capacity: positive,
  refillPerSecond: positive,
  now: z.date(),
}).refine((v) => v.n <= v.capacity, { path: ['n'], message: 'exceeds the capacity: it could never be granted' });

/** Takes `n` tokens if the bucket holds them now (all or nothing), atomically. */
export async function takeTokens(access: Access, input: TakeTokensInput): Promise<TakeTokensResult> {
  const i = parseInput(takeTokensInput, input);
  const row = await access.run(async (tx) => (await tx.query<{ granted: boolean; wait_ms: number; tokens: number }>(
    'select granted, wait_ms, tokens from steward.take_tokens($1, $2, $3, $4, $5, $6)',
    [i.tenantId, i.bucket, i.n, i.capacity, i.refillPerSecond, i.now],
  )).rows[0]!);
  return { granted: row.granted, waitMs: row.wait_ms, tokens: row.tokens };
}
