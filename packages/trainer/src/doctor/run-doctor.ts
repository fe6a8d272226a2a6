/**
 * `pnpm doctor`: everything a GPU training run needs, checked in the order a user would fix it. The
 * runtime probes run in child processes, the wasm and ONNX ones while the driver is queried.
 */
import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import type { CheckResult } from './check-result.ts';
import { readLdconfigCache, resolveLibraries, TENSORFLOW_CUDA_LIBRARIES } from './cuda-libraries.ts';
import { checkPreparedData, checkWeights } from './data-checks.ts';
import { checkCudaLibraries, checkDriver, checkGpus } from './gpu-checks.ts';
import { checkDependencies, checkTensorflowBinding, tensorflowBindingState } from './install-checks.ts';
import { queryNvidiaSmi } from './nvidia-smi.ts';
import { checkOnnx, checkTensorflowStep, checkWasm, runProbe } from './probe-checks.ts';
import type { OnnxProbe, TensorflowProbe, WasmProbe } from './probe-protocol.ts';
import { checkDisk, checkNodeVersion } from './system-checks.ts';

export interface DoctorOptions {
  /** A prepared folder to check instead of looking under data/prepared. */
  prepared?: string;
  weights?: string;
  /** Limit for the TensorFlow step: on a GPU newer than TensorFlow 2.9 its first start compiles kernels. */
  tensorflowTimeoutMs?: number;
}

export async function runDoctor(options: DoctorOptions = {}): Promise<CheckResult[]> {
  const checks: CheckResult[] = [];
  const add = (check: CheckResult) => checks.push(check);
  add(checkNodeVersion(process.version));
  const install = checkDependencies();
  add(install);
  const wasm = install.status === 'fail' ? undefined : runProbe<WasmProbe>('wasm', 120_000);
  const onnx = install.status === 'fail' ? undefined : runProbe<OnnxProbe>('onnx', 120_000);

  const binding = tensorflowBindingState();
  add(checkTensorflowBinding(binding));
  const smi = await queryNvidiaSmi();
  add(checkDriver(smi));
  add(checkGpus(smi, process.env.CUDA_VISIBLE_DEVICES));
  const cache = await readLdconfigCache();
  add(checkCudaLibraries(resolveLibraries(TENSORFLOW_CUDA_LIBRARIES, cache, process.env.LD_LIBRARY_PATH)));
  const tensorflow =
    binding.state === 'present'
      ? await runProbe<TensorflowProbe>('tensorflow', options.tensorflowTimeoutMs ?? 900_000)
      : undefined;
  add(checkTensorflowStep(tensorflow));

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

/** data/ may not exist yet on a fresh clone: then the disk that will hold it is its parent's. */
function nearestExisting(folder: string): string {
  if (existsSync(folder) || folder === path.dirname(folder)) return folder;
  return nearestExisting(path.dirname(folder));
}
