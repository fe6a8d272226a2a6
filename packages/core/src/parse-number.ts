import { InvalidArgumentError } from 'commander';

/**
 * Commander argument parsers of the trainer's, the server's and the tools' command lines: reject bad
 * values with a message commander prints before exiting 1. In core although it is CLI code (like
 * runCommandLine): all three CLIs use them, so a number flag reads the same everywhere, and trainer and
 * server share only core.
 */
export function parseInteger(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected an integer, got "${value}".`);
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new InvalidArgumentError(`${value} is too large.`);
  return number;
}

/** A parser for an integer in [min, max] (a port, a worker count). */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    let number: number;
    try {
      number = parseInteger(value);
    } catch {
      number = Number.NaN;
    }
    if (!(number >= min && number <= max)) {
      throw new InvalidArgumentError(`Expected an integer from ${min} to ${max}.`);
    }
    return number;
  };
}

export function parsePositiveInteger(value: string): number {
  const number = parseInteger(value);
  if (number < 1) throw new InvalidArgumentError(`expected a positive integer, got ${value}.`);
  return number;
}

export function parseNonNegativeInteger(value: string): number {
  const number = parseInteger(value);
  if (number < 0) throw new InvalidArgumentError(`expected an integer ≥ 0, got ${value}.`);
  return number;
}

/** A fraction strictly between 0 and 1, such as a validation share. */
export function parseOpenFraction(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !(number > 0 && number < 1)) {
    throw new InvalidArgumentError(`expected a number between 0 and 1 (exclusive), got "${value}".`);
  }
  return number;
}

export function parsePositiveNumber(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !(number > 0) || !Number.isFinite(number)) {
    throw new InvalidArgumentError(`expected a positive number, got "${value}".`);
  }
  return number;
}

export function parseNonNegativeNumber(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !(number >= 0) || !Number.isFinite(number)) {
    throw new InvalidArgumentError(`expected a number ≥ 0, got "${value}".`);
  }
  return number;
}
