import { restErrors } from './errors.ts';

/**
 * A position in one query-string value being parsed. Failures are PGRST100 with
 * PostgREST's shape: the message names the parameter and the column, the details say
 * what was found and what was expected.
 */
export class Cursor {
  readonly input: string;
  /** What is parsed, for messages: `select parameter`, `filter`, `order`… */
  readonly what: string;
  pos = 0;

  constructor(input: string, what: string) {
    this.input = input;
    this.what = what;
  }

  get done(): boolean {
    return this.pos >= this.input.length;
  }

  peek(offset = 0): string {
    return this.input.charAt(this.pos + offset);
  }

  startsWith(text: string): boolean {
    return this.input.startsWith(text, this.pos);
  }

  /** Consumes `text` if it comes next. */
  eat(text: string): boolean {
    if (!this.startsWith(text)) return false;
    this.pos += text.length;
    return true;
  }

  expect(text: string, expecting = JSON.stringify(text)): void {
    if (!this.eat(text)) this.fail(expecting);
  }

  skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  /** The rest of the input, consumed. */
  rest(): string {
    const text = this.input.slice(this.pos);
    this.pos = this.input.length;
    return text;
  }

  fail(expecting: string): never {
    const found = this.done ? 'end of input' : JSON.stringify(this.peek());
    throw restErrors.queryParam(
      `"failed to parse ${this.what} (${this.input})" (line 1, column ${this.pos + 1})`,
      `unexpected ${found} expecting ${expecting}`,
    );
  }
}
