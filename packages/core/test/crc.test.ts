import { describe, expect, it } from 'vitest';
import { crc32, crc32c, maskedCrc32c } from '../src/crc.ts';

const CHECK = new TextEncoder().encode('123456789');

describe('crc', () => {
  it('matches the published check values of CRC-32C and CRC-32', () => {
    expect(crc32c(CHECK)).toBe(0xe3069283);
    expect(crc32(CHECK)).toBe(0xcbf43926);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
  });

  it("masks as TensorFlow's crc32c::Mask: rotate right by 15, add 0xa282ead8", () => {
    const c = crc32c(CHECK);
    expect(maskedCrc32c(CHECK)).toBe((((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0);
    expect(maskedCrc32c(CHECK)).not.toBe(c);
  });
});
