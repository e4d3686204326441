// A local stand-in for an OpenAI-compatible embeddings API (POST /v1/embeddings), on
// loopback: checks the bearer key and the request as OpenAI does, answers with
// deterministic vectors (the hashing embedder's, at the requested width, so similar texts
// are close), records every request, and plays scripted faults.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HashingEmbedder } from '../../../src/evidence/embedders/hashing-embedder.ts';

export type EmbeddingsFault =
  | { kind: 'status'; status: number; retryAfterSeconds?: number; body?: unknown }
  | { kind: 'wrong_dimensions'; dimensions: number }
  | { kind: 'shuffled' }
  | { kind: 'malformed' };

export interface RecordedEmbeddingsRequest {
  authorization: string | undefined;
  body: { model?: unknown; input?: unknown; dimensions?: unknown; encoding_format?: unknown };
}

export interface FakeEmbeddings {
  /** e.g. http://127.0.0.1:43210/v1: the embedder's base URL. */
  readonly url: string;
  readonly apiKey: string;
  readonly requests: readonly RecordedEmbeddingsRequest[];
  /** Faults for the next requests, one each, in order. */
  failNext(...faults: EmbeddingsFault[]): void;
  close(): Promise<void>;
}

const MODELS = new Set(['text-embedding-3-small', 'nomic-embed-text', 'Supabase/gte-small']);

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

const error = (message: string, type = 'invalid_request_error') => ({ error: { message, type, param: null, code: null } });

export async function startFakeEmbeddings(options: { apiKey?: string } = {}): Promise<FakeEmbeddings> {
  const apiKey = options.apiKey ?? 'sk-fake-embeddings-key';
  const requests: RecordedEmbeddingsRequest[] = [];
  const faults: EmbeddingsFault[] = [];
  const hashing = new HashingEmbedder();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    if (req.method !== 'POST' || req.url !== '/v1/embeddings') return send(res, 404, error(`no route ${req.method} ${req.url}`));
    let body: RecordedEmbeddingsRequest['body'];
    try {
      body = JSON.parse(raw) as RecordedEmbeddingsRequest['body'];
    } catch {
      return send(res, 400, error('We could not parse the JSON body of your request.'));
    }
    requests.push({ authorization: req.headers.authorization, body });
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      const shown = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      return send(res, 401, error(`Incorrect API key provided: ${shown}.`, 'invalid_request_error'));
    }
    const fault = faults.shift();
    if (fault?.kind === 'status') {
      return send(res, fault.status, fault.body ?? error('fault injected', 'server_error'), fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) });
    }
    if (fault?.kind === 'malformed') return send(res, 200, '{"object": "list", "data": [');
    if (typeof body.model !== 'string' || !MODELS.has(body.model)) return send(res, 404, error(`The model \`${String(body.model)}\` does not exist.`));
    const input = typeof body.input === 'string' ? [body.input] : body.input;
    if (!Array.isArray(input) || input.length === 0 || input.some((t) => typeof t !== 'string')) {
      return send(res, 400, error("'input' must be a string or an array of strings"));
    }
    const dims = fault?.kind === 'wrong_dimensions' ? fault.dimensions : typeof body.dimensions === 'number' ? body.dimensions : 1536;
    const data = input.map((text: string, index) => {
      const base = hashing.embedOne(text);
      const embedding = Array.from({ length: dims }, (_, i) => base[i % base.length]! / Math.sqrt(Math.ceil(dims / base.length)));
      return { object: 'embedding', index, embedding };
    });
    if (fault?.kind === 'shuffled') data.reverse();
    send(res, 200, { object: 'list', data, model: body.model, usage: { prompt_tokens: input.length, total_tokens: input.length } });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => send(res, 500, error(String(e), 'server_error')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    apiKey,
    requests,
    failNext: (...f) => faults.push(...f),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
