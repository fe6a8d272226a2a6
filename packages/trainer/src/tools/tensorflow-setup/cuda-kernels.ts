/**
 * Which GPUs a libtensorflow has compiled kernels for, read from the library itself: nvcc puts every
 * kernel into the ELF section `.nv_fatbin` as fat binaries, each a list of entries that are either SASS
 * (machine code for one compute capability) or PTX (portable code the driver compiles at start-up). The
 * layout is the one `cuobjdump` reads (fatbinary.h in the CUDA toolkit): a 16-byte header with magic
 * 0xBA55ED50, then entries with their kind (1 PTX, 2 SASS) at byte 0, header size at 4, payload size at
 * 8 and the architecture (90 for sm_90) at 28.
 */
import { open } from 'node:fs/promises';

export interface KernelArchitectures {
  /** Compute capabilities with machine code, e.g. ["6.0", "7.0", "8.0", "8.9", "9.0"]. */
  sass: string[];
  /** Compute capabilities of the PTX the driver can compile for newer GPUs. */
  ptx: string[];
}

const FATBIN_MAGIC = 0xba55ed50;

/** The architectures in a `.nv_fatbin` section's bytes. */
export function fatbinArchitectures(section: Buffer): KernelArchitectures {
  const sass = new Set<number>();
  const ptx = new Set<number>();
  let offset = 0;
  while (offset + 16 <= section.length) {
    if (section.readUInt32LE(offset) !== FATBIN_MAGIC) {
      offset += 8; // fat binaries are 8-byte aligned, with padding between them
      continue;
    }
    const headerSize = section.readUInt16LE(offset + 6);
    const end = offset + headerSize + Number(section.readBigUInt64LE(offset + 8));
    for (let entry = offset + headerSize; entry + 32 <= end; ) {
      const kind = section.readUInt16LE(entry);
      const arch = section.readUInt32LE(entry + 28);
      if (kind === 1) ptx.add(arch);
      if (kind === 2) sass.add(arch);
      entry += section.readUInt32LE(entry + 4) + Number(section.readBigUInt64LE(entry + 8));
    }
    offset = end;
  }
  const capabilities = (set: Set<number>) =>
    [...set].sort((a, b) => a - b).map((arch) => `${Math.floor(arch / 10)}.${arch % 10}`);
  return { sass: capabilities(sass), ptx: capabilities(ptx) };
}

/** Reads one section of a 64-bit little-endian ELF file, or undefined when it has none by that name. */
export async function readElfSection(file: string, name: string): Promise<Buffer | undefined> {
  const handle = await open(file, 'r');
  const read = async (position: number, length: number) => {
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, position);
    return buffer;
  };
  try {
    const header = await read(0, 64);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2) return undefined; // not ELF64
    const sectionsAt = Number(header.readBigUInt64LE(0x28));
    const entrySize = header.readUInt16LE(0x3a);
    const count = header.readUInt16LE(0x3c);
    const sections = await read(sectionsAt, entrySize * count);
    const section = (index: number) => ({
      name: sections.readUInt32LE(index * entrySize),
      offset: Number(sections.readBigUInt64LE(index * entrySize + 0x18)),
      size: Number(sections.readBigUInt64LE(index * entrySize + 0x20)),
    });
    const names = section(header.readUInt16LE(0x3e));
    const nameTable = await read(names.offset, names.size);
    for (let index = 0; index < count; index++) {
      const { name: nameAt, offset, size } = section(index);
      if (nameTable.toString('latin1', nameAt, nameTable.indexOf(0, nameAt)) === name)
        return read(offset, size);
    }
    return undefined;
  } finally {
    await handle.close();
  }
}

/** The union of the kernels in `libraries` (libtensorflow_cc and libtensorflow_framework both carry some). */
export async function libraryKernels(libraries: readonly string[]): Promise<KernelArchitectures> {
  const sass = new Set<string>();
  const ptx = new Set<string>();
  for (const library of libraries) {
    const section = await readElfSection(library, '.nv_fatbin');
    if (!section) continue;
    const found = fatbinArchitectures(section);
    for (const arch of found.sass) sass.add(arch);
    for (const arch of found.ptx) ptx.add(arch);
  }
  const sorted = (set: Set<string>) => [...set].sort((a, b) => Number(a) - Number(b));
  return { sass: sorted(sass), ptx: sorted(ptx) };
}
