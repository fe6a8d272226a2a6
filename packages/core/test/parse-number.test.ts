import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { integerIn, parseNonNegativeInteger, parsePositiveInteger } from '../src/parse-number.ts';

describe('integer flag parsers (one rule for the trainer and the server)', () => {
  it('accept plain integers and reject fractions, exponents, words and unsafe sizes', () => {
    expect(parsePositiveInteger(' 12 ')).toBe(12);
    expect(parseNonNegativeInteger('0')).toBe(0);
    for (const bad of ['1.5', '1e3', 'ten', '', '99999999999999999999']) {
      expect(() => parsePositiveInteger(bad)).toThrow(InvalidArgumentError);
      expect(() => integerIn(0, 100)(bad)).toThrow('Expected an integer from 0 to 100.');
    }
    expect(() => parsePositiveInteger('0')).toThrow('expected a positive integer, got 0.');
    expect(integerIn(0, 65535)('5000')).toBe(5000);
    expect(() => integerIn(0, 65535)('70000')).toThrow('Expected an integer from 0 to 65535.');
  });
});
