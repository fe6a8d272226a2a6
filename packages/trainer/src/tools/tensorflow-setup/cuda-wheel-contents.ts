/**
 * Unpacks NVIDIA's CUDA wheels beside libtensorflow. A wheel keeps its libraries in `nvidia/<name>/lib/`
 * (nvidia/cublas/lib/libcublas.so.12); they go to `deps/nvidia/<name>/lib/`, the layout pip gives them
 * in site-packages. libtensorflow_framework.so.2's RUNPATH names `$ORIGIN/../nvidia/<name>/lib` for each
 * library it dlopens, and deps/lib is its $ORIGIN, so TensorFlow finds them there with no LD_LIBRARY_PATH
 * and no patched binary; the NVIDIA libraries find each other (cuSOLVER → cuBLAS, nvJitLink) through
 * their own `$ORIGIN/../../<name>/lib` RUNPATHs.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { UserError } from '@food/core/errors';
import { listEntries, openEntry, openZip, readAll } from './wheel-contents.ts';

/** `nvidia/<name>/lib/<library>.so[.N…]`: the shared libraries of a CUDA wheel (not headers, not stubs). */
const LIBRARY_MEMBER = /^nvidia\/[\w-]+\/lib\/[^/]+\.so(\.\d+)*$/;

export function isCudaLibraryMember(member: string): boolean {
  return LIBRARY_MEMBER.test(member);
}

/** Writes the libraries of one NVIDIA wheel under `depsDir`; returns their paths relative to it. */
export async function extractCudaLibraries(
  wheelPath: string,
  depsDir: string,
): Promise<{ libraries: string[]; bytes: number }> {
  const wheel = await openZip(wheelPath);
  try {
    const members = [...(await listEntries(wheel)).values()].filter((entry) =>
      isCudaLibraryMember(entry.fileName),
    );
    if (members.length === 0) {
      throw new UserError(
        `${path.basename(wheelPath)} holds no nvidia/*/lib/*.so: not one of NVIDIA's CUDA wheels. Delete it and run again.`,
      );
    }
    let bytes = 0;
    for (const entry of members) {
      const target = path.join(depsDir, entry.fileName);
      await mkdir(path.dirname(target), { recursive: true });
      await pipeline(await openEntry(wheel, entry), createWriteStream(target, { mode: 0o755 }));
      bytes += entry.uncompressedSize;
    }
    return { libraries: members.map((entry) => entry.fileName).sort(), bytes };
  } finally {
    wheel.close();
  }
}

/** The `*.dist-info/METADATA` of a wheel (its Requires-Dist says which CUDA wheels it runs on). */
export async function readWheelMetadata(wheelPath: string): Promise<string> {
  const wheel = await openZip(wheelPath);
  try {
    const entries = await listEntries(wheel);
    const metadata = [...entries.values()].find((entry) =>
      /^[^/]+\.dist-info\/METADATA$/.test(entry.fileName),
    );
    if (!metadata)
      throw new UserError(`${path.basename(wheelPath)} has no *.dist-info/METADATA: not a wheel.`);
    return (await readAll(await openEntry(wheel, metadata))).toString('utf8');
  } finally {
    wheel.close();
  }
}

/**
 * cuDNN 9's engine libraries look for libnvrtc.so.12 (runtime-compiled engines) in
 * `$ORIGIN/../../nvrtc/lib`, but the nvrtc wheel unpacks to nvidia/cuda_nvrtc: the same mismatch a pip
 * install has. A link by the name cuDNN looks for closes it.
 */
export async function linkNvrtcForCudnn(depsDir: string): Promise<void> {
  const link = path.join(depsDir, 'nvidia', 'nvrtc');
  if (existsSync(path.join(depsDir, 'nvidia', 'cuda_nvrtc')) && !existsSync(link))
    await symlink('cuda_nvrtc', link);
}
