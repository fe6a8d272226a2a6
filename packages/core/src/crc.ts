/**
 * Table-driven CRC-32 variants (reflected, initial and final value 0xffffffff): CRC-32C (Castagnoli)
 * frames TensorBoard's TFRecord files (the trainer's event files), plain CRC-32 (IEEE) frames PNG
 * chunks (png.ts). Node 20 has neither (zlib.crc32 arrived in Node 22, and it is the IEEE one).
 */
function crcTable(polynomial: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ polynomial : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

const CASTAGNOLI = crcTable(0x82f63b78);
const IEEE = crcTable(0xedb88320);

function crc(table: Uint32Array, bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = table[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function crc32c(bytes: Uint8Array): number {
  return crc(CASTAGNOLI, bytes);
}

export function crc32(bytes: Uint8Array): number {
  return crc(IEEE, bytes);
}

/** TFRecord's masked CRC (tensorflow/core/lib/hash/crc32c.h): rotate right 15 bits, add a constant. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}
