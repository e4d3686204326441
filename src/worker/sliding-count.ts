/**
 * Events counted over the last `seconds` seconds, in one-second slots: memory stays
 * constant however many events arrive (a timestamp per event would not, at thousands
 * per second). The window is (now - seconds, now] at one-second resolution.
 */
export class SlidingCount {
  readonly #seconds: number;
  readonly #now: () => number;
  /** The second (epoch seconds) each slot currently counts, and its count. */
  readonly #slotSecond: number[];
  readonly #slotCount: number[];

  constructor(seconds: number, now: () => number = Date.now) {
    this.#seconds = seconds;
    this.#now = now;
    this.#slotSecond = new Array<number>(seconds).fill(-Infinity);
    this.#slotCount = new Array<number>(seconds).fill(0);
  }

  add(n = 1): void {
    const second = Math.floor(this.#now() / 1000);
    const slot = second % this.#seconds;
    if (this.#slotSecond[slot] !== second) {
      this.#slotSecond[slot] = second; // an older second's count, now outside the window
      this.#slotCount[slot] = 0;
    }
    this.#slotCount[slot]! += n;
  }

  total(): number {
    const second = Math.floor(this.#now() / 1000);
    let sum = 0;
    for (let i = 0; i < this.#seconds; i++) {
      const age = second - this.#slotSecond[i]!; // < 0 only if the wall clock went back
      if (age >= 0 && age < this.#seconds) sum += this.#slotCount[i]!;
    }
    return sum;
  }
}
