import { InvalidArgumentError } from 'commander';

/** Commander argument parsers: reject bad values with a message commander prints before exiting 1. */
export function parseInteger(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected an integer, got "${value}".`);
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new InvalidArgumentError(`${value} is too large.`);
  return number;
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
