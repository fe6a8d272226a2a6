/**
 * `deps/setup-tensorflow.json`: what `pnpm setup:tensorflow` put into a tfjs-node package. A second run
 * reads it to tell it has nothing to do; `pnpm run doctor` reads it to know which TensorFlow, CUDA
 * libraries and GPU kernels it is checking.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KernelArchitectures } from './cuda-kernels.ts';

export const PROVENANCE_FILE = 'setup-tensorflow.json';

export interface ProvisionedWheel {
  project: string;
  version: string;
  filename: string;
  sha256: string;
}

export interface ProvisionedCuda {
  wheels: ProvisionedWheel[];
  /** Library files relative to deps/, e.g. nvidia/cublas/lib/libcublas.so.12. */
  libraries: string[];
  /** The GPUs libtensorflow has compiled kernels for (read from its .nv_fatbin sections). */
  kernels: KernelArchitectures;
}

export interface Provenance {
  wheel: string;
  sha256: string;
  napiVersion: number;
  tensorflowVersion?: string;
  /** Present for the GPU package: the CUDA wheels unpacked under deps/nvidia. */
  cuda?: ProvisionedCuda;
}

export async function readProvenance(depsDir: string): Promise<Provenance | undefined> {
  try {
    return JSON.parse(await readFile(path.join(depsDir, PROVENANCE_FILE), 'utf8')) as Provenance;
  } catch {
    return undefined;
  }
}
