/**
 * A resettable wake-up: `wait(ms)` resolves after `ms`, or at once when `wake()` is
 * called (or was called since the last wait), so a notification that arrives while the
 * worker is busy is not lost.
 */
export class Wakeup {
  #pending = false;
  #resolve: (() => void) | undefined;

  wake(): void {
    if (this.#resolve) {
      this.#resolve();
      this.#resolve = undefined;
    } else {
      this.#pending = true;
    }
  }

  wait(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#resolve = undefined;
        resolve();
      }, ms);
      this.#resolve = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
