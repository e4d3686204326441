import { InvalidArgumentError } from 'commander';

/** A commander option parser for whole numbers ≥ 1; a bad value is a usage error naming the option. */
export function positiveInt(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number ≥ 1`);
    return n;
  };
}

/** A TCP port, 0–65535 (0 = any free port, which the command then prints). */
export function portNumber(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65_535 || value.trim() === '') throw new InvalidArgumentError(`${name} must be a port number 0–65535`);
    return n;
  };
}
