import { describe, expect, it } from 'vitest';
import { count, exactCount } from '../../src/evaluate/format.ts';

describe('report number formats', () => {
  it('gives image counts exactly, so a 12,500-photo split does not read as 13,000', () => {
    expect(exactCount(12_500)).toBe('12,500');
    expect(exactCount(1_250)).toBe('1,250');
  });

  it('keeps parameter counts compact', () => {
    expect(count(23_608_202)).toBe('23.6 M');
    expect(count(134_000)).toBe('134 k');
  });
});
