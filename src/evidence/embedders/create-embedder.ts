import type { EmbedderConfig } from '../../config.ts';
import { DefaultEmbedder } from './default-embedder.ts';
import type { Embedder } from './embedder.ts';
import { GteSmallEmbedder } from './gte-small-embedder.ts';
import { HashingEmbedder } from './hashing-embedder.ts';
import { OpenAiEmbedder } from './openai-embedder.ts';

/** The embedder a configuration names. Models load on first use, not here. */
export function createEmbedder(config: EmbedderConfig): Embedder {
  switch (config.kind) {
    case 'default':
      return new DefaultEmbedder();
    case 'hashing':
      return new HashingEmbedder();
    case 'gte-small':
      return new GteSmallEmbedder({ modelDir: config.modelDir });
    case 'openai':
      return new OpenAiEmbedder({ baseUrl: config.url, apiKey: config.apiKey, model: config.model });
  }
}
