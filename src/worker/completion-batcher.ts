import type { Completion } from '../domain/envelope-outcome.ts';
import type { CompletionApplied } from './outbox-queries.ts';

type Apply = (completions: Completion[]) => Promise<CompletionApplied[]>;

interface Waiting {
  completion: Completion;
  resolve: (applied: CompletionApplied | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for completions. Outcomes that arrive while a write is in flight (or in
 * the same turn of the event loop) are written together in the next one: one
 * transaction for many envelopes under load, no added delay when idle. Each caller
 * learns its own envelope's result; a failed write fails every caller of that batch
 * (their leases then expire and recovery takes the envelopes back: at-least-once).
 */
export class CompletionBatcher {
  readonly #apply: Apply;
  readonly #maxBatch: number;
  #queue: Waiting[] = [];
  #draining = false;

  constructor(apply: Apply, maxBatch = 100) {
    this.#apply = apply;
    this.#maxBatch = maxBatch;
  }

  /** Resolves once the completion is written: with its row's answer, or undefined if the row was gone. */
  add(completion: Completion): Promise<CompletionApplied | undefined> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ completion, resolve, reject });
      if (!this.#draining) {
        this.#draining = true;
        // setImmediate, not a microtask: executions settling in the same I/O turn join.
        setImmediate(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        try {
          const applied = new Map((await this.#apply(batch.map((w) => w.completion))).map((a) => [a.id, a]));
          for (const w of batch) w.resolve(applied.get(w.completion.id));
        } catch (error) {
          for (const w of batch) w.reject(error);
        }
      }
    } finally {
      this.#draining = false;
    }
  }
}
