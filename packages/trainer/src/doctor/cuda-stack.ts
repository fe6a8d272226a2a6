/**
 * The CUDA stack the installed libtensorflow runs on, as `pnpm setup:tensorflow --gpu` recorded it
 * (deps/setup-tensorflow.json): TensorFlow's version, the NVIDIA wheels unpacked beside it, and the GPUs
 * it has kernels for. Pure, so the checks are tested with written provenance.
 */
import path from 'node:path';
import type { Provenance } from '../tools/tensorflow-setup/provenance.ts';
import { compareVersions } from './nvidia-smi.ts';

/**
 * The oldest Linux driver each CUDA major runs on through minor-version compatibility (NVIDIA's CUDA
 * Compatibility guide, table "CUDA Toolkit and Minimum Required Driver Version"). PTX compiled by a newer
 * toolkit needs that toolkit's own driver (CUDA 12.5: 555.42.02); TensorFlow only falls back to its PTX
 * on GPUs newer than its machine code.
 */
export const MIN_DRIVER_FOR_CUDA: Readonly<Record<number, string>> = { 11: '450.80.02', 12: '525.60.13' };

export interface CudaStack {
  tensorflowVersion: string;
  /** e.g. "12.5" (from nvidia-cuda-runtime-cu12 12.5.82) */
  cuda: string;
  /** e.g. "9.3" (from nvidia-cudnn-cu12 9.3.0.75) */
  cudnn: string;
  minDriver: string;
  /** Absolute paths of every provisioned CUDA library. */
  libraries: string[];
  kernels: { sass: string[]; ptx: string[] };
}

const majorMinor = (version: string) => version.split('.').slice(0, 2).join('.');

/** The stack of a provisioned GPU package, or undefined when setup:tensorflow --gpu did not provision it. */
export function cudaStack(provenance: Provenance | undefined, depsDir: string): CudaStack | undefined {
  const cuda = provenance?.cuda;
  if (!cuda) return undefined;
  const version = (project: string) => cuda.wheels.find((wheel) => wheel.project === project)?.version ?? '?';
  const cudaVersion = majorMinor(version('nvidia-cuda-runtime-cu12'));
  return {
    tensorflowVersion: provenance.tensorflowVersion ?? provenance.wheel.split('-')[1] ?? '?',
    cuda: cudaVersion,
    cudnn: majorMinor(version('nvidia-cudnn-cu12')),
    minDriver: MIN_DRIVER_FOR_CUDA[Number(cudaVersion.split('.')[0])] ?? '?',
    libraries: cuda.libraries.map((library) => path.join(depsDir, library)),
    kernels: cuda.kernels,
  };
}

export type KernelSupport =
  | { kind: 'native'; sass: string }
  | { kind: 'ptx'; ptx: string }
  | { kind: 'none' };

/**
 * How TensorFlow runs on a GPU of compute capability `capability`: machine code built for X.Y runs on
 * X.Z for every Z ≥ Y (same major; NVIDIA's binary compatibility rule), so an A10 (8.6) runs the 8.0
 * code natively; otherwise the driver compiles PTX of an older or equal capability at start-up.
 */
export function kernelSupport(kernels: CudaStack['kernels'], capability: string): KernelSupport {
  const [major] = capability.split('.');
  const sass = kernels.sass
    .filter((arch) => arch.split('.')[0] === major && compareVersions(arch, capability) <= 0)
    .at(-1);
  if (sass) return { kind: 'native', sass };
  const ptx = kernels.ptx.filter((arch) => compareVersions(arch, capability) <= 0).at(-1);
  return ptx ? { kind: 'ptx', ptx } : { kind: 'none' };
}
