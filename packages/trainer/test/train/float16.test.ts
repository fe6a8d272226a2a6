import { describe, expect, it } from 'vitest';
import { decodeFloat16, encodeFloat16 } from '../../src/train/float16.ts';

const encodeOne = (value: number) => encodeFloat16(Float32Array.of(value))[0];
function decodeOne(half: number): number {
  const out = new Float32Array(1);
  decodeFloat16(Uint16Array.of(half), out);
  return out[0]!;
}
/** The float32 next to `value` towards +∞ (for positive finite values). */
function nextUp(value: number): number {
  const bits = new Uint32Array(Float32Array.of(value).buffer);
  bits[0]!++;
  return new Float32Array(bits.buffer)[0]!;
}

describe('encodeFloat16', () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [0.1, 0x2e66],
    [1 / 3, 0x3555],
    [65504, 0x7bff],
    [65519.99, 0x7bff],
    // 65520 is halfway between 65504 and 65536 (the next step, infinity); ties to even go up.
    [65520, 0x7c00],
    [1e9, 0x7c00],
    [2 ** -14, 0x0400], // the smallest normal
    [2 ** -24, 0x0001], // the smallest subnormal
    [2 ** -25, 0x0000], // halfway between 0 and 2^-24: to even, 0
    [3 * 2 ** -25, 0x0002], // halfway between 1 and 2 × 2^-24: to even, 2
    [5 * 2 ** -25, 0x0002], // halfway between 2 and 3 × 2^-24: to even, 2
    [1e-10, 0x0000],
    [1 + 2 ** -11, 0x3c00], // halfway between 1 and 1 + 2^-10: to even, 1
    [1 + 3 * 2 ** -11, 0x3c02], // halfway between 1 + 2^-10 and 1 + 2^-9: to even
    [-0, 0x8000],
    [Number.POSITIVE_INFINITY, 0x7c00],
    [Number.NEGATIVE_INFINITY, 0xfc00],
  ])('%f → %s', (value, half) => {
    expect(encodeOne(value)).toBe(half);
  });

  it('rounds just above a tie up and keeps NaN a NaN', () => {
    expect(encodeOne(nextUp(2 ** -25))).toBe(0x0001);
    expect(encodeOne(nextUp(1 + 2 ** -11))).toBe(0x3c01);
    expect(Number.isNaN(decodeOne(encodeOne(Number.NaN)!))).toBe(true);
  });

  it('round-trips every binary16 value and rounds every midpoint between neighbours to the even one', () => {
    for (let half = 0; half < 0x7c00; half++) {
      const value = decodeOne(half);
      expect(encodeOne(value)).toBe(half);
      expect(encodeOne(-value)).toBe(half | 0x8000);
      if (half === 0x7bff) continue;
      // Midpoints of binary16 neighbours have 12 significant bits: exact in float32.
      const midpoint = (value + decodeOne(half + 1)) / 2;
      const even = half % 2 === 0 ? half : half + 1;
      if (encodeOne(midpoint) !== even)
        expect.fail(`midpoint above ${half.toString(16)} → ${encodeOne(midpoint)}`);
      if (encodeOne(nextUp(midpoint)) !== half + 1) expect.fail(`above the midpoint of ${half.toString(16)}`);
    }
  });
});

describe('decodeFloat16', () => {
  it('decodes subnormals, infinities and NaN and writes at the offset', () => {
    const out = new Float32Array(6).fill(7);
    decodeFloat16(Uint16Array.of(0x0001, 0x03ff, 0x7c00, 0xfc00, 0x7e00), out, 1);
    expect(out[0]).toBe(7);
    expect([...out.subarray(1, 5)]).toEqual([2 ** -24, 1023 * 2 ** -24, Infinity, -Infinity]);
    expect(Number.isNaN(out[5])).toBe(true);
  });
});

// Node 24 has Float16Array (Node 20 does not): where it exists, every float32 bit pattern's rounding must
// agree with it, on a seeded sample across the whole range.
const NativeFloat16 = (globalThis as { Float16Array?: new (values: ArrayLike<number>) => Uint16Array })
  .Float16Array;
describe.runIf(NativeFloat16 !== undefined)("agrees with the runtime's Float16Array", () => {
  it('on 100,000 float32 values spread over every exponent', () => {
    const bits = new Uint32Array(100_000);
    let state = 12345;
    for (let i = 0; i < bits.length; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      bits[i] = state;
    }
    const values = new Float32Array(bits.buffer);
    const native = new Uint16Array(new NativeFloat16!(values).buffer);
    const ours = encodeFloat16(values);
    for (let i = 0; i < values.length; i++) {
      if (Number.isNaN(values[i])) continue;
      if (ours[i] !== native[i]) expect.fail(`${values[i]}: ${ours[i]} vs ${native[i]}`);
    }
  });
});
