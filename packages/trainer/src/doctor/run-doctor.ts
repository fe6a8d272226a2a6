/**
 * `pnpm doctor`: everything a training run needs — on the GPU, or on the CPU where there is none — checked
 * in the order a user would fix it. The runtime probes and the library loads run in child processes, the
 * wasm and ONNX ones while the driver is queried.
 */
import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { readProvenance } from '../tools/tensorflow-setup/provenance.ts';
import type { CheckResult } from './check-result.ts';
import { cudaStack } from './cuda-stack.ts';
import { checkPreparedData, checkWeights } from './data-checks.ts';
import { checkCudaLibraries, checkDriver, checkGpus } from './gpu-checks.ts';
import {
  checkDependencies,
  checkLibtensorflow,
  type TensorflowBinding,
  tensorflowBindingState,
} from './install-checks.ts';
import { loadLibraries } from './load-libraries.ts';
import { queryNvidiaSmi } from './nvidia-smi.ts';
import { checkOnnx, checkTensorflowStep, checkWasm, runProbe } from './probe-checks.ts';
import type { OnnxProbe, TensorflowProbe, WasmProbe } from './probe-protocol.ts';
import { checkDisk, checkNodeVersion } from './system-checks.ts';

export interface DoctorOptions {
  /** A prepared folder to check instead of looking under data/prepared. */
  prepared?: string;
  weights?: string;
  /** `--gpu`: a machine without a usable GPU fails instead of being ready for CPU training. */
  requireGpu?: boolean;
  /** Limit for the TensorFlow step: on a GPU newer than TensorFlow's machine code its first start compiles kernels. */
  tensorflowTimeoutMs?: number;
}

export async function runDoctor(options: DoctorOptions = {}): Promise<CheckResult[]> {
  const checks: CheckResult[] = [];
  const add = (...results: CheckResult[]) => checks.push(...results);
  const requireGpu = options.requireGpu ?? false;
  add(checkNodeVersion(process.version));
  const install = checkDependencies();
  add(install);
  const wasm = install.status === 'fail' ? undefined : runProbe<WasmProbe>('wasm', 120_000);
  const onnx = install.status === 'fail' ? undefined : runProbe<OnnxProbe>('onnx', 120_000);

  const { tensorflow: bindings, stack } = await tensorflowInstall();
  add(checkLibtensorflow(bindings.gpu, bindings.cpu, stack, requireGpu));
  const smi = await queryNvidiaSmi();
  add(checkDriver(smi, stack.gpu, requireGpu));
  add(...checkGpus(smi, process.env.CUDA_VISIBLE_DEVICES, stack.gpu));
  add(...checkCudaLibraries(stack.gpu, await loadLibraries(stack.gpu?.libraries ?? []), requireGpu));
  const tensorflow = [bindings.gpu, bindings.cpu].some((binding) => binding.state === 'present')
    ? await runProbe<TensorflowProbe>('tensorflow', options.tensorflowTimeoutMs ?? 900_000)
    : undefined;
  const gpuListed = smi.status === 'ok' && smi.gpus.length > 0;
  add(checkTensorflowStep(tensorflow, { requireGpu, gpuListed }));

  const skipped = (name: string) => ({
    name,
    status: 'skip' as const,
    detail: 'not run: the install check failed',
  });
  add(wasm ? checkWasm(await wasm) : skipped('wasm'));
  add(onnx ? checkOnnx(await onnx) : skipped('onnxruntime'));

  const dataFolder = nearestExisting(path.resolve('data'));
  const { bavail, bsize } = await statfs(dataFolder);
  add(checkDisk(dataFolder, bavail * bsize));
  add(checkWeights(options.weights));
  add(checkPreparedData(options.prepared));
  return checks;
}

/** Both tfjs-node packages' bindings, and what setup:tensorflow recorded in each. */
async function tensorflowInstall() {
  const gpu = tensorflowBindingState('@tensorflow/tfjs-node-gpu');
  const cpu = tensorflowBindingState('@tensorflow/tfjs-node');
  const depsOf = (binding: TensorflowBinding) => (binding.root ? path.join(binding.root, 'deps') : undefined);
  const gpuDeps = depsOf(gpu);
  const cpuDeps = depsOf(cpu);
  const gpuProvenance = gpuDeps ? await readProvenance(gpuDeps) : undefined;
  const cpuProvenance = cpuDeps ? await readProvenance(cpuDeps) : undefined;
  return {
    tensorflow: { gpu, cpu },
    stack: {
      gpu: gpuDeps ? cudaStack(gpuProvenance, gpuDeps) : undefined,
      gpuWheel: gpuProvenance?.wheel,
      cpuWheel: cpuProvenance?.wheel,
    },
  };
}

/** data/ may not exist yet on a fresh clone: then the disk that will hold it is its parent's. */
function nearestExisting(folder: string): string {
  if (existsSync(folder) || folder === path.dirname(folder)) return folder;
  return nearestExisting(path.dirname(folder));
}
