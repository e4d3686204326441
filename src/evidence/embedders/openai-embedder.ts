import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { StewardError } from '../../errors.ts';
import { parseRetryAfter } from '../../integrations/composio/retry-after.ts';
import { EVIDENCE_DIMENSIONS, normalize, type Embedder } from './embedder.ts';

// An OpenAI-compatible embeddings endpoint: `POST {baseUrl}/embeddings` with
// {model, input: [...], dimensions, encoding_format: "float"}. OpenAI itself
// (https://api.openai.com/v1, text-embedding-3-small shortens to 384), or a local server
// speaking the same API (Ollama, text-embeddings-inference, vLLM …). The key is sent as a
// bearer token and never appears in an error or a log.

export interface OpenAiEmbedderOptions {
  /** e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1 */
  baseUrl: string;
  apiKey?: string | undefined;
  model: string;
  /** Requested with `dimensions`; the reply must match (the column is 384 wide). */
  dimensions?: number;
  /** Texts per request (OpenAI allows 2048). */
  batchSize?: number;
  timeoutMs?: number;
  /** Attempts per request for 429, 5xx and network errors. */
  maxAttempts?: number;
  fetch?: typeof fetch;
}

const reply = z.object({
  data: z.array(z.object({ index: z.number().int().min(0), embedding: z.array(z.number()) })),
});

export class OpenAiEmbedder implements Embedder {
  /** The model name as the server knows it: the same name is the same vectors. */
  readonly modelId: string;
  readonly dimensions: number;
  readonly kind = 'semantic' as const;
  readonly #url: string;
  readonly #key: string | undefined;
  readonly #batch: number;
  readonly #timeoutMs: number;
  readonly #attempts: number;
  readonly #fetch: typeof fetch;

  constructor(options: OpenAiEmbedderOptions) {
    this.modelId = options.model;
    this.dimensions = options.dimensions ?? EVIDENCE_DIMENSIONS;
    this.#url = `${options.baseUrl.replace(/\/+$/, '')}/embeddings`;
    this.#key = options.apiKey;
    this.#batch = options.batchSize ?? 256;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#attempts = options.maxAttempts ?? 3;
    this.#fetch = options.fetch ?? fetch;
  }

  async embed(texts: readonly string[], options: { signal?: AbortSignal } = {}): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.#batch) {
      out.push(...(await this.#request(texts.slice(i, i + this.#batch), options.signal)));
    }
    return out;
  }

  async #request(input: readonly string[], signal: AbortSignal | undefined): Promise<Float32Array[]> {
    const body = JSON.stringify({ model: this.modelId, input, dimensions: this.dimensions, encoding_format: 'float' });
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.#key) headers.authorization = `Bearer ${this.#key}`;
    for (let attempt = 1; ; attempt++) {
      const timeout = AbortSignal.timeout(this.#timeoutMs);
      let res: Response;
      try {
        res = await this.#fetch(this.#url, { method: 'POST', headers, body, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
      } catch (error) {
        signal?.throwIfAborted();
        const why = timeout.aborted ? `no answer within ${this.#timeoutMs} ms` : (error as Error).message;
        if (attempt < this.#attempts) {
          await sleep(backoff(attempt), undefined, { signal });
          continue;
        }
        throw this.#failure(`${why}`, undefined);
      }
      if (res.ok) return this.#parse(await res.json().catch(() => undefined), input.length);
      const text = (await res.text().catch(() => '')).slice(0, 300);
      if ((res.status === 429 || res.status >= 500) && attempt < this.#attempts) {
        await sleep(parseRetryAfter(res.headers) ?? backoff(attempt), undefined, { signal });
        continue;
      }
      throw this.#failure(`HTTP ${res.status}${text ? `: ${this.#redact(text)}` : ''}`, res.status);
    }
  }

  #parse(json: unknown, expected: number): Float32Array[] {
    const parsed = reply.safeParse(json);
    if (!parsed.success) throw this.#failure('the reply is not an embeddings list', undefined);
    const rows = [...parsed.data.data].sort((a, b) => a.index - b.index);
    if (rows.length !== expected || rows.some((r, i) => r.index !== i)) {
      throw this.#failure(`asked for ${expected} embeddings, got ${rows.length}`, undefined);
    }
    return rows.map((r) => {
      if (r.embedding.length !== this.dimensions) {
        throw this.#failure(`the model returned ${r.embedding.length} dimensions; evidence holds ${this.dimensions} (does the server honour "dimensions"?)`, undefined);
      }
      return normalize(Float32Array.from(r.embedding));
    });
  }

  #redact(text: string): string {
    return this.#key ? text.split(this.#key).join('[redacted]') : text;
  }

  #failure(message: string, status: number | undefined): StewardError {
    return new StewardError('embedding_failed', `embeddings endpoint ${this.#url} (model ${this.modelId}): ${message}`, {
      details: { url: this.#url, model: this.modelId, ...(status === undefined ? {} : { status }) },
    });
  }
}

/** 0.5 s, 1 s, 2 s … with full jitter. */
function backoff(attempt: number): number {
  return Math.random() * 500 * 2 ** (attempt - 1);
}
