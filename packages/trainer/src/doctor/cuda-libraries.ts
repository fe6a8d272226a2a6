/**
 * The CUDA 11 and cuDNN 8 libraries that libtensorflow 2.9 (inside @tensorflow/tfjs-node-gpu 4.22)
 * dlopens by soname, and whether the dynamic loader can find them: in an LD_LIBRARY_PATH folder, in
 * the loader cache (`ldconfig -p`), or in the default folders. Parsing is pure, tested with recorded
 * output.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/** TensorFlow 2.9's stream executor loads these (tensorflow/stream_executor/platform/default/dso_loader.cc). */
export const TENSORFLOW_CUDA_LIBRARIES = [
  'libcudart.so.11.0',
  'libcublas.so.11',
  'libcublasLt.so.11',
  'libcufft.so.10',
  'libcurand.so.10',
  'libcusolver.so.11',
  'libcusparse.so.11',
  'libcudnn.so.8',
] as const;

const DEFAULT_FOLDERS = ['/lib', '/usr/lib', '/lib64', '/usr/lib64'];

/**
 * `ldconfig -p` lines look like
 * `\tlibcudnn.so.8 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcudnn.so.8`; returns soname → paths
 * (64-bit entries only: a 32-bit copy cannot be loaded by a 64-bit Node).
 */
export function parseLdconfigCache(text: string): Map<string, string[]> {
  const entries = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)\s*$/.exec(line);
    if (!match) continue;
    const [, soname, flags, file] = match as unknown as [string, string, string, string];
    if (!flags.includes('64')) continue;
    entries.set(soname, [...(entries.get(soname) ?? []), file]);
  }
  return entries;
}

export interface LibraryResolution {
  found: Array<{ soname: string; file: string }>;
  missing: string[];
  /** Other majors of the same libraries (CUDA 12, cuDNN 9): present, but not what TensorFlow 2.9 loads. */
  otherVersions: string[];
}

export function resolveLibraries(
  sonames: readonly string[],
  cache: Map<string, string[]>,
  ldLibraryPath: string | undefined,
  fileExists: (file: string) => boolean = existsSync,
): LibraryResolution {
  const folders = (ldLibraryPath ?? '').split(':').filter((folder) => folder !== '');
  const found: LibraryResolution['found'] = [];
  const missing: string[] = [];
  for (const soname of sonames) {
    // The loader's order: LD_LIBRARY_PATH, then the cache, then the default folders.
    const file =
      folders.map((folder) => path.join(folder, soname)).find(fileExists) ??
      cache.get(soname)?.[0] ??
      DEFAULT_FOLDERS.map((folder) => path.join(folder, soname)).find(fileExists);
    if (file) found.push({ soname, file });
    else missing.push(soname);
  }
  const stems = new Set(missing.map((soname) => soname.replace(/\.so\..*$/, '.so.')));
  const otherVersions = [...cache.keys()]
    .filter((soname) => [...stems].some((stem) => soname.startsWith(stem)))
    .sort();
  return { found, missing, otherVersions };
}

/** `ldconfig -p`, or an empty cache where there is no ldconfig (macOS, minimal containers). */
export async function readLdconfigCache(): Promise<Map<string, string[]>> {
  for (const ldconfig of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      const { stdout } = await promisify(execFile)(ldconfig, ['-p'], {
        timeout: 10_000,
        maxBuffer: 16 << 20,
      });
      return parseLdconfigCache(stdout);
    } catch {
      // try the next location
    }
  }
  return new Map();
}
