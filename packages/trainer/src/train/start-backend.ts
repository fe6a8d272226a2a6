/**
 * Starts the backend for `pnpm train` and fails in seconds, before any data is read, when a GPU run cannot
 * work: `--backend tensorflow` that cannot load, or a machine whose driver shows a GPU (nvidia-smi) that
 * TensorFlow cannot use. Each failure names the cause and `pnpm run doctor`, which checks everything a GPU
 * run needs. nvidia-smi is asked first because TensorFlow claims nearly all GPU memory when it starts:
 * the free memory read here is what `--accumulate auto` plans with.
 */
import { type BackendInfo, type BackendName, BackendUnavailableError, initBackend } from '@food/core/backend';
import { UserError } from '@food/core/errors';
import { type NvidiaSmiResult, queryNvidiaSmi, visibleGpus } from '../doctor/nvidia-smi.ts';
import type { GpuMemory } from './choose-micro-batch.ts';

export interface StartBackendOptions {
  requested: BackendName;
  threads?: number;
  /** Sets TF_DETERMINISTIC_OPS=1 before TensorFlow loads (it reads the variable once, at start). */
  deterministic: boolean;
  /**
   * The whole network trains on images (`--trainable all`, no cached features): only then does a CPU
   * warning say the run takes days; a cached-feature fine-tune takes minutes there.
   */
  wholeNetworkOnImages: boolean;
  log: (line: string) => void;
}

export interface StartBackendDependencies {
  queryGpus: () => Promise<NvidiaSmiResult>;
  initBackend: (
    requested: BackendName,
    log: (line: string) => void,
    threads?: number,
  ) => Promise<BackendInfo>;
  env: NodeJS.ProcessEnv;
}

const DEFAULT_DEPENDENCIES: StartBackendDependencies = {
  queryGpus: () => queryNvidiaSmi(),
  initBackend: (requested, log, threads) => initBackend(requested, log, { wasmThreads: threads }),
  env: process.env,
};

const DOCTOR = 'Run `pnpm run doctor` to see what is missing and how to fix it';

export async function startTrainingBackend(
  options: StartBackendOptions,
  dependencies: StartBackendDependencies = DEFAULT_DEPENDENCIES,
): Promise<{ backend: BackendInfo; gpu?: GpuMemory }> {
  const { requested, log } = options;
  if (options.deterministic) {
    dependencies.env.TF_DETERMINISTIC_OPS = '1';
    log('--deterministic: TF_DETERMINISTIC_OPS=1 (TensorFlow uses deterministic GPU kernels; slower)');
  }
  const wantsTensorflow = requested === 'auto' || requested === 'tensorflow';
  const smi = wantsTensorflow ? await dependencies.queryGpus() : undefined;
  const gpus = smi?.status === 'ok' ? visibleGpus(smi.gpus, dependencies.env.CUDA_VISIBLE_DEVICES) : [];

  let backend: BackendInfo;
  try {
    backend = await dependencies.initBackend(requested, log, options.threads);
  } catch (error) {
    if (error instanceof BackendUnavailableError && requested === 'tensorflow') {
      throw new UserError(`${error.message} ${DOCTOR}.`, error.code);
    }
    throw error;
  }
  if (wantsTensorflow && gpus.length > 0 && !backend.gpu) {
    const names = [...new Set(gpus.map((gpu) => gpu.name))].join(', ');
    const reason =
      backend.name === 'tensorflow'
        ? 'TensorFlow loaded but found no usable CUDA device (CUDA 11 / cuDNN 8 libraries not loadable?)'
        : backend.skipped
            .filter((skip) => skip.backend.startsWith('tensorflow'))
            .map((skip) => `${skip.backend}: ${skip.reason}`)
            .join('; ') || 'the tensorflow backend did not start';
    throw new UserError(
      `This machine has a GPU (${names}, from nvidia-smi) but TensorFlow cannot use it: ${reason}. ${DOCTOR}; to train on the CPU anyway, pass --backend wasm.`,
      'GPU_UNUSABLE',
    );
  }
  if (requested === 'tensorflow' && !backend.gpu) {
    const cost = options.wholeNetworkOnImages ? 'The recipe takes days on a CPU; see' : 'See';
    log(
      `warning: TensorFlow runs on the CPU: no usable CUDA device (tfjs-node-gpu 4.x needs CUDA 11.2 and cuDNN 8.1). ${cost} README, Troubleshooting.`,
    );
  }
  // TensorFlow places the model on the first visible GPU; the smallest free memory is the safe plan.
  // Unknown free memory (unified-memory GPUs report [N/A]) leaves the plan to the OOM retry.
  const free = gpus.map((gpu) => gpu.memoryFreeMiB);
  if (!backend.gpu || free.length === 0 || free.some((mib) => mib === undefined)) return { backend };
  const tightest = gpus[free.indexOf(Math.min(...(free as number[])))]!;
  return { backend, gpu: { name: tightest.name, freeBytes: tightest.memoryFreeMiB! * 2 ** 20 } };
}
