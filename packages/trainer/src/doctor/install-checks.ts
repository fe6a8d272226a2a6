import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { CheckResult } from './check-result.ts';
import type { CudaStack } from './cuda-stack.ts';
import { GET_BINDING, SETUP_GPU } from './fixes.ts';

/** Resolves packages as @food/core does (the optional native ones are its dependencies). */
const requireFromCore = createRequire(createRequire(import.meta.url).resolve('@food/core/backend'));

/** The folder of an installed package, found from its entry point (not every package exports package.json). */
function packageRoot(specifier: string): string | undefined {
  let folder: string;
  try {
    folder = path.dirname(requireFromCore.resolve(specifier));
  } catch {
    return undefined;
  }
  // Walk up to the package's own package.json (dist/ folders may hold a {"type": ...} one).
  for (; folder !== path.dirname(folder); folder = path.dirname(folder)) {
    const manifest = path.join(folder, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === specifier) return folder;
  }
  return undefined;
}

/** The marker patches/@tensorflow__tfjs-backend-wasm@4.22.0.patch writes into tfjs-backend-wasm. */
const WASM_PATCH_MARKER = 'food101 patch';

export function checkDependencies(): CheckResult {
  const name = 'install';
  const fix = 'Run `pnpm install` in the repository root';
  const missing = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'sharp', 'onnxruntime-node'].filter(
    (specifier) => packageRoot(specifier) === undefined,
  );
  if (missing.length > 0) {
    return { name, status: 'fail', detail: `not installed: ${missing.join(', ')}`, fix };
  }
  const wasmRoot = packageRoot('@tensorflow/tfjs-backend-wasm')!;
  const nodeBuild = path.join(wasmRoot, 'dist', 'tf-backend-wasm.node.js');
  if (!readFileSync(nodeBuild, 'utf8').includes(WASM_PATCH_MARKER)) {
    return {
      name,
      status: 'fail',
      detail: `${nodeBuild} lacks the pthreads patch (wasm would run on 1 thread)`,
      fix: 'Run `pnpm install` with pnpm 10 (it applies patches/ from pnpm-workspace.yaml); npm and yarn do not',
    };
  }
  return { name, status: 'pass', detail: 'dependencies installed, wasm pthreads patch applied' };
}

export type BindingState = 'present' | 'missing' | 'not-installed';

export interface TensorflowBinding {
  specifier: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node';
  state: BindingState;
  root?: string;
}

export function tensorflowBindingState(specifier: TensorflowBinding['specifier']): TensorflowBinding {
  const root = packageRoot(specifier);
  if (!root) return { specifier, state: 'not-installed' };
  const lib = path.join(root, 'lib');
  const present =
    existsSync(lib) && readdirSync(lib).some((dir) => existsSync(path.join(lib, dir, 'tfjs_binding.node')));
  return { specifier, state: present ? 'present' : 'missing', root };
}

/**
 * Which libtensorflow `--backend tensorflow` will run and what it needs: the GPU package's, with the CUDA
 * stack setup:tensorflow --gpu recorded, else the CPU package's (ready for CPU training unless `--gpu`).
 */
export function checkLibtensorflow(
  gpu: TensorflowBinding,
  cpu: TensorflowBinding,
  stack: { gpu?: CudaStack; gpuWheel?: string; cpuWheel?: string },
  requireGpu: boolean,
): CheckResult {
  const name = 'libtensorflow';
  if (gpu.state === 'present' && stack.gpu) {
    const { tensorflowVersion, cuda, cudnn, kernels } = stack.gpu;
    return {
      name,
      status: 'pass',
      detail: `tfjs-node-gpu runs TensorFlow ${tensorflowVersion} (${stack.gpuWheel}), built for CUDA ${cuda} and cuDNN ${cudnn}; machine code for compute ${kernels.sass.join(', ')}${kernels.ptx.length ? `, PTX ${kernels.ptx.join(', ')}` : ''}`,
    };
  }
  if (gpu.state === 'present') {
    return {
      name,
      status: requireGpu ? 'fail' : 'warn',
      detail: `tfjs-node-gpu's libtensorflow ${stack.gpuWheel ? `(${stack.gpuWheel})` : '(its own download: TensorFlow 2.9.1 for CUDA 11.2 and cuDNN 8.1, no Hopper code)'} came without the CUDA libraries it needs`,
      fix: SETUP_GPU,
    };
  }
  if (cpu.state === 'present' && !requireGpu) {
    return {
      name,
      status: 'pass',
      detail: `tfjs-node runs ${stack.cpuWheel ?? 'its libtensorflow'} on the CPU; for a GPU: \`pnpm setup:tensorflow --gpu\``,
    };
  }
  return {
    name,
    status: 'fail',
    detail: requireGpu
      ? '@tensorflow/tfjs-node-gpu has no native binding: the tensorflow backend cannot use a GPU'
      : 'neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node has a native binding: the tensorflow backend is unavailable',
    fix: requireGpu ? SETUP_GPU : GET_BINDING,
  };
}
