/**
 * Copies libtensorflow out of a TensorFlow wheel into the layout tfjs-node's binding.gyp expects:
 * `deps/lib/libtensorflow.so` + `libtensorflow_framework.so` and the C API headers under `deps/include`.
 *
 * Since TensorFlow 2.12 the wheel's `libtensorflow_cc.so.2` carries the C and eager C APIs (TF_*, TFE_*)
 * and needs nothing from Python; before that they sit in `python/_pywrap_tensorflow_internal.so`, which
 * refers to CPython's data symbols and cannot load in Node (docs/tensorflow-backend.md).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError } from '@food/core/errors';
import yauzl from 'yauzl';

/** The wheel's shared libraries and the names binding.gyp links (`-ltensorflow -ltensorflow_framework`). */
const LIBRARIES = [
  { member: 'tensorflow/libtensorflow_cc.so.2', linkName: 'libtensorflow.so' },
  { member: 'tensorflow/libtensorflow_framework.so.2', linkName: 'libtensorflow_framework.so' },
] as const;

const INCLUDE_ROOT = 'tensorflow/include/';

/** The quoted includes of tfjs-node's binding sources (binding/*.cc, *.h). */
export async function bindingIncludes(packageRoot: string): Promise<string[]> {
  const dir = path.join(packageRoot, 'binding');
  const sources = await Promise.all(
    (await readdir(dir)).map((file) => readFile(path.join(dir, file), 'utf8')),
  );
  return [...new Set(sources.flatMap(quotedIncludes))].sort();
}

/** `#include "path"` targets of a header (angle-bracket includes are the system's). */
export function quotedIncludes(source: string): string[] {
  return [...source.matchAll(/^\s*#\s*include\s+"([^"]+)"/gm)].map((match) => match[1]!);
}

/**
 * The headers reachable from `roots` through quoted includes, among those `readHeader` knows (it
 * returns undefined for a header the wheel does not ship, e.g. a generated one the C API never uses).
 */
export async function includeClosure(
  roots: readonly string[],
  readHeader: (header: string) => Promise<string | undefined>,
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const header = queue.shift()!;
    if (found.has(header)) continue;
    const source = await readHeader(header);
    if (source === undefined) continue;
    found.set(header, source);
    queue.push(...quotedIncludes(source).filter((include) => !found.has(include)));
  }
  return found;
}

/**
 * Writes the libraries of `wheelPath` into `depsDir` (replacing what was there), with the headers that
 * `rootHeaders` (what the binding's sources include) need.
 */
export async function extractLibtensorflow(
  wheelPath: string,
  depsDir: string,
  rootHeaders: readonly string[],
): Promise<{ headers: number; libraryBytes: number }> {
  const wheel = await openZip(wheelPath);
  try {
    const entries = await listEntries(wheel);
    const missing = LIBRARIES.filter(({ member }) => !entries.has(member));
    if (missing.length > 0) {
      throw new UserError(
        `${path.basename(wheelPath)} has no ${missing.map((m) => m.member).join(' or ')}: TensorFlow wheels ` +
          'before 2.12 keep the C API inside a Python extension that cannot load in Node. Use --tensorflow 2.12.0 or newer.',
      );
    }
    await rm(depsDir, { recursive: true, force: true });
    await mkdir(path.join(depsDir, 'lib'), { recursive: true });
    let libraryBytes = 0;
    for (const { member, linkName } of LIBRARIES) {
      const entry = entries.get(member)!;
      const fileName = path.basename(member);
      await pipeline(
        await openEntry(wheel, entry),
        createWriteStream(path.join(depsDir, 'lib', fileName), { mode: 0o755 }),
      );
      await symlink(fileName, path.join(depsDir, 'lib', linkName));
      libraryBytes += entry.uncompressedSize;
    }
    const headers = await includeClosure(rootHeaders, async (header) => {
      const entry = entries.get(INCLUDE_ROOT + header);
      return entry ? (await readAll(await openEntry(wheel, entry))).toString('utf8') : undefined;
    });
    for (const [header, source] of headers) {
      const target = path.join(depsDir, 'include', header);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, source);
    }
    return { headers: headers.size, libraryBytes };
  } finally {
    wheel.close();
  }
}

export function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: false }, (error, zip) =>
      error ? reject(new UserError(`${file} is not a readable wheel (zip): ${error.message}`)) : resolve(zip),
    ),
  );
}

export function listEntries(zip: yauzl.ZipFile): Promise<Map<string, yauzl.Entry>> {
  return new Promise((resolve, reject) => {
    const entries = new Map<string, yauzl.Entry>();
    zip.on('entry', (entry: yauzl.Entry) => {
      entries.set(entry.fileName, entry);
      zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', reject);
    zip.readEntry();
  });
}

export function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) =>
    zip.openReadStream(entry, (error, stream) => (error ? reject(error) : resolve(stream))),
  );
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
