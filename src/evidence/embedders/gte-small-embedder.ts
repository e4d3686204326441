import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { StewardError } from '../../errors.ts';
import { EVIDENCE_DIMENSIONS, normalize, type Embedder } from './embedder.ts';

// gte-small, the model Supabase's Edge Functions embed with, run by transformers.js
// (ONNX Runtime) from a directory the operator filled: never downloads at run time (the
// hub is switched off before anything loads). Mean pooling + L2 normalisation, as Supabase
// computes it, so vectors written by an Edge Function and by Steward are the same model's.
//
// Layout (Hugging Face's, as `git clone https://huggingface.co/Supabase/gte-small` gives):
//   $STEWARD_MODEL_DIR/Supabase/gte-small/config.json, tokenizer.json, tokenizer_config.json,
//                                         onnx/model.onnx (fp32) or onnx/model_quantized.onnx (q8)

export const GTE_SMALL_MODEL = 'Supabase/gte-small';

export type GteDtype = 'fp32' | 'q8';

const WEIGHTS: Record<GteDtype, string> = { fp32: 'onnx/model.onnx', q8: 'onnx/model_quantized.onnx' };

/** The files a model directory must hold for `dtype`, relative to <dir>/Supabase/gte-small. */
export function expectedModelFiles(dtype: GteDtype): string[] {
  return ['config.json', 'tokenizer.json', 'tokenizer_config.json', WEIGHTS[dtype]];
}

type FeatureExtractor = ((texts: string[], options: { pooling: 'mean'; normalize: boolean }) => Promise<{ data: Float32Array; dims: number[] }>) & {
  dispose(): Promise<void>;
};

// transformers.js keeps its settings in one global `env`: loads are serialised so two
// embedders with different directories cannot interleave them.
let loadQueue: Promise<unknown> = Promise.resolve();

export class GteSmallEmbedder implements Embedder {
  readonly modelId = GTE_SMALL_MODEL;
  readonly dimensions = EVIDENCE_DIMENSIONS;
  readonly kind = 'semantic' as const;
  readonly modelDir: string;
  readonly dtype: GteDtype;
  #extractor: Promise<FeatureExtractor> | undefined;

  constructor(options: { modelDir: string; dtype?: GteDtype }) {
    this.modelDir = options.modelDir;
    this.dtype = options.dtype ?? 'fp32';
  }

  /** The model's own folder: <modelDir>/Supabase/gte-small. */
  get modelPath(): string {
    return join(this.modelDir, ...GTE_SMALL_MODEL.split('/'));
  }

  /** Throws config_invalid naming the folder and every missing file. */
  async checkFiles(): Promise<void> {
    const expected = expectedModelFiles(this.dtype);
    const missing: string[] = [];
    for (const file of expected) {
      await access(join(this.modelPath, file)).catch(() => missing.push(file));
    }
    if (missing.length > 0) {
      throw new StewardError(
        'config_invalid',
        `gte-small model not found: ${this.modelPath} lacks ${missing.join(', ')} ` +
          `(expected ${expected.join(', ')}; Steward never downloads models: put a copy of ` +
          `huggingface.co/${GTE_SMALL_MODEL} in STEWARD_MODEL_DIR/${GTE_SMALL_MODEL})`,
        { field: 'STEWARD_MODEL_DIR', details: { path: this.modelPath, expected, missing } },
      );
    }
  }

  #load(): Promise<FeatureExtractor> {
    this.#extractor ??= (async () => {
      await this.checkFiles();
      const run = loadQueue.then(async () => {
        const { env, pipeline } = await import('@huggingface/transformers');
        env.allowRemoteModels = false;
        env.allowLocalModels = true;
        env.useFSCache = false;
        env.localModelPath = `${this.modelDir.replace(/\/+$/, '')}/`;
        const extractor = await pipeline('feature-extraction', GTE_SMALL_MODEL, { dtype: this.dtype, local_files_only: true });
        return extractor as unknown as FeatureExtractor;
      });
      loadQueue = run.catch(() => undefined);
      return run;
    })();
    this.#extractor.catch(() => {
      this.#extractor = undefined; // a fixed directory may be retried
    });
    return this.#extractor;
  }

  async embed(texts: readonly string[], options: { signal?: AbortSignal } = {}): Promise<Float32Array[]> {
    const extractor = await this.#load();
    options.signal?.throwIfAborted();
    if (texts.length === 0) return [];
    const out = await extractor([...texts], { pooling: 'mean', normalize: true });
    const [n, width] = out.dims;
    if (n !== texts.length || width !== this.dimensions) {
      throw new StewardError('internal', `gte-small returned ${out.dims.join('×')} for ${texts.length} texts; expected ${texts.length}×${this.dimensions}`);
    }
    return Array.from({ length: n }, (_, i) => normalize(out.data.slice(i * width, (i + 1) * width)));
  }

  async close(): Promise<void> {
    const extractor = await this.#extractor?.catch(() => undefined);
    this.#extractor = undefined;
    await extractor?.dispose();
  }
}
