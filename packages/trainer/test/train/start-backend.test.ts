import { type BackendInfo, BackendUnavailableError } from '@food/core/backend';
import { describe, expect, it } from 'vitest';
import type { NvidiaSmiResult } from '../../src/doctor/nvidia-smi.ts';
import { type StartBackendDependencies, startTrainingBackend } from '../../src/train/start-backend.ts';
import { H100 } from '../doctor/h100.ts';

const WASM_AFTER_MISSING_BINDING: BackendInfo = {
  name: 'wasm',
  gpu: false,
  threads: 2,
  skipped: [
    {
      backend: 'tensorflow (@tensorflow/tfjs-node-gpu)',
      reason: '@tensorflow/tfjs-node-gpu is installed but its native binding is missing',
    },
    { backend: 'tensorflow (@tensorflow/tfjs-node)', reason: '@tensorflow/tfjs-node is not installed' },
  ],
};

function machine(smi: NvidiaSmiResult, backend: BackendInfo | Error, env: NodeJS.ProcessEnv = {}) {
  const calls: string[] = [];
  const dependencies: StartBackendDependencies = {
    env,
    queryGpus: async () => {
      calls.push('nvidia-smi');
      return smi;
    },
    initBackend: async (requested) => {
      calls.push(`initBackend ${requested} TF_DETERMINISTIC_OPS=${env.TF_DETERMINISTIC_OPS}`);
      if (backend instanceof Error) throw backend;
      return backend;
    },
  };
  return { dependencies, calls };
}

const options = { threads: 2, deterministic: false, wholeNetworkOnImages: true, log: () => {} };

describe('startTrainingBackend: fail fast before any data is read', () => {
  it('refuses auto on a machine with a GPU whose tensorflow binding is missing, naming the cause and pnpm run doctor', async () => {
    const { dependencies } = machine({ status: 'ok', gpus: [H100] }, WASM_AFTER_MISSING_BINDING);
    await expect(startTrainingBackend({ ...options, requested: 'auto' }, dependencies)).rejects.toThrowError(
      /has a GPU \(NVIDIA H100 80GB HBM3, from nvidia-smi\) but TensorFlow cannot use it: .*native binding is missing.*`pnpm run doctor`.*--backend wasm/,
    );
  });

  it('adds pnpm run doctor to the error of an explicit --backend tensorflow that cannot start', async () => {
    const { dependencies } = machine(
      { status: 'not-installed' },
      new BackendUnavailableError('Backend "tensorflow" is not available (...).'),
    );
    await expect(
      startTrainingBackend({ ...options, requested: 'tensorflow' }, dependencies),
    ).rejects.toMatchObject({
      name: 'UserError',
      code: 'BACKEND_UNAVAILABLE',
      message: expect.stringMatching(/not available .*Run `pnpm run doctor`/),
    });
  });

  it('refuses a tensorflow backend that loaded without a CUDA device on a GPU machine', async () => {
    const cpuTensorflow: BackendInfo = { name: 'tensorflow', gpu: false, threads: 1, skipped: [] };
    const { dependencies } = machine({ status: 'ok', gpus: [H100] }, cpuTensorflow);
    await expect(
      startTrainingBackend({ ...options, requested: 'tensorflow' }, dependencies),
    ).rejects.toThrowError(/no usable CUDA device.*pnpm run doctor/);
  });

  it('lets auto fall back to wasm where there is no GPU, and leaves other backends alone', async () => {
    const none = machine({ status: 'not-installed' }, WASM_AFTER_MISSING_BINDING);
    await expect(startTrainingBackend({ ...options, requested: 'auto' }, none.dependencies)).resolves.toEqual(
      {
        backend: WASM_AFTER_MISSING_BINDING,
      },
    );
    // CUDA_VISIBLE_DEVICES hides the GPU: a CPU run is what was asked for.
    const hidden = machine({ status: 'ok', gpus: [H100] }, WASM_AFTER_MISSING_BINDING, {
      CUDA_VISIBLE_DEVICES: '',
    });
    await expect(
      startTrainingBackend({ ...options, requested: 'auto' }, hidden.dependencies),
    ).resolves.toMatchObject({
      backend: { name: 'wasm' },
    });
    const wasm = machine({ status: 'ok', gpus: [H100] }, WASM_AFTER_MISSING_BINDING);
    await startTrainingBackend({ ...options, requested: 'wasm' }, wasm.dependencies);
    expect(wasm.calls).toEqual(['initBackend wasm TF_DETERMINISTIC_OPS=undefined']);
  });

  it('reads free GPU memory before TensorFlow starts (it claims the memory), from the visible GPU with the least', async () => {
    const busy = { ...H100, index: 1, memoryFreeMiB: 20_000 };
    const { dependencies, calls } = machine(
      { status: 'ok', gpus: [H100, busy] },
      { name: 'tensorflow', gpu: true, threads: 1, skipped: [] },
    );
    const started = await startTrainingBackend({ ...options, requested: 'auto' }, dependencies);
    expect(calls).toEqual(['nvidia-smi', 'initBackend auto TF_DETERMINISTIC_OPS=undefined']);
    expect(started.gpu).toEqual({ name: H100.name, freeBytes: 20_000 * 2 ** 20 });
  });

  it('warns that TensorFlow on a CPU takes days only when the whole network trains on images', async () => {
    const cpuTensorflow: BackendInfo = { name: 'tensorflow', gpu: false, threads: 2, skipped: [] };
    const warning = async (wholeNetworkOnImages: boolean) => {
      const lines: string[] = [];
      const { dependencies } = machine({ status: 'not-installed' }, cpuTensorflow);
      await startTrainingBackend(
        { ...options, requested: 'tensorflow', wholeNetworkOnImages, log: (line) => lines.push(line) },
        dependencies,
      );
      return lines.join('\n');
    };
    const recipe = await warning(true);
    expect(recipe).toMatch(
      /^warning: TensorFlow runs on the CPU: no usable CUDA device .*takes days on a CPU/,
    );
    const cached = await warning(false);
    expect(cached).toMatch(
      /^warning: TensorFlow runs on the CPU: no usable CUDA device .*See README, Troubleshooting\.$/,
    );
    expect(cached).not.toContain('days');
  });

  it('--deterministic sets TF_DETERMINISTIC_OPS=1 before the backend loads', async () => {
    const env: NodeJS.ProcessEnv = {};
    const { dependencies, calls } = machine(
      { status: 'ok', gpus: [H100] },
      { name: 'tensorflow', gpu: true, threads: 1, skipped: [] },
      env,
    );
    await startTrainingBackend({ ...options, requested: 'tensorflow', deterministic: true }, dependencies);
    expect(calls).toContain('initBackend tensorflow TF_DETERMINISTIC_OPS=1');
  });
});
