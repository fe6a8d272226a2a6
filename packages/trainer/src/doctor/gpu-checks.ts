import type { CheckResult } from './check-result.ts';
import { type CudaStack, kernelSupport } from './cuda-stack.ts';
import { SETUP_GPU, TRAIN_IMAGE } from './fixes.ts';
import type { LoadResult } from './load-libraries.ts';
import { compareVersions, type GpuInfo, type NvidiaSmiResult, visibleGpus } from './nvidia-smi.ts';

/** `requireGpu`: `pnpm run doctor --gpu`; without it a machine with no GPU trains on the CPU. */
export function checkDriver(
  smi: NvidiaSmiResult,
  stack: CudaStack | undefined,
  requireGpu: boolean,
): CheckResult {
  const name = 'nvidia-driver';
  const minDriver = stack?.minDriver ?? '525.60.13';
  const cuda = stack ? `CUDA ${stack.cuda}` : 'CUDA 12';
  if (smi.status === 'not-installed') {
    return {
      name,
      status: requireGpu ? 'fail' : 'warn',
      detail: `nvidia-smi not found: no NVIDIA driver (or a container started without GPUs)${requireGpu ? '' : '; training runs on the CPU'}`,
      fix: `Install the NVIDIA driver ≥ ${minDriver}; in Docker run with \`--gpus all\` (NVIDIA Container Toolkit)`,
    };
  }
  if (smi.status === 'error') {
    return {
      name,
      status: 'fail',
      detail: `nvidia-smi failed: ${smi.message}`,
      fix: 'Reinstall or reload the NVIDIA driver until `nvidia-smi` lists the GPUs (a reboot after a driver update is often enough)',
    };
  }
  const version = smi.gpus[0]?.driverVersion ?? 'unknown';
  if (smi.gpus.length === 0 || compareVersions(version, minDriver) < 0) {
    return {
      name,
      status: 'fail',
      detail:
        smi.gpus.length === 0
          ? 'nvidia-smi lists no GPU'
          : `driver ${version} is older than ${minDriver}, the oldest ${cuda} runs on`,
      fix: `Install the NVIDIA driver ≥ ${minDriver} (${cuda}; the libraries come with \`pnpm setup:tensorflow --gpu\`, the driver from the host)`,
    };
  }
  return { name, status: 'pass', detail: `driver ${version} (≥ ${minDriver} for ${cuda})` };
}

function describeGpu(gpu: GpuInfo, visible: boolean): string {
  const memory =
    gpu.memoryTotalMiB === undefined
      ? 'memory [N/A]'
      : `${(gpu.memoryTotalMiB / 1024).toFixed(1)} GiB, ${((gpu.memoryFreeMiB ?? 0) / 1024).toFixed(1)} GiB free`;
  return `${gpu.index}: ${gpu.name} (${memory}, compute ${gpu.computeCapability ?? 'unknown'}${visible ? '' : ', hidden by CUDA_VISIBLE_DEVICES'})`;
}

/** One check per visible GPU: does the installed TensorFlow have machine code for its compute capability? */
export function checkGpus(
  smi: NvidiaSmiResult,
  cudaVisibleDevices: string | undefined,
  stack: CudaStack | undefined,
): CheckResult[] {
  if (smi.status !== 'ok' || smi.gpus.length === 0) {
    return [{ name: 'gpus', status: 'skip', detail: 'no GPU listed (see nvidia-driver)' }];
  }
  const visible = visibleGpus(smi.gpus, cudaVisibleDevices);
  if (visible.length === 0) {
    return [
      {
        name: 'gpus',
        status: 'fail',
        detail: `${smi.gpus.map((gpu) => describeGpu(gpu, false)).join('; ')}: CUDA_VISIBLE_DEVICES="${cudaVisibleDevices}" hides all of them`,
        fix: 'Unset CUDA_VISIBLE_DEVICES or list a GPU in it',
      },
    ];
  }
  return visible.map((gpu) => checkGpuKernels(gpu, stack));
}

function checkGpuKernels(gpu: GpuInfo, stack: CudaStack | undefined): CheckResult {
  const name = `gpu ${gpu.index}`;
  const described = describeGpu(gpu, true);
  if (!stack)
    return { name, status: 'skip', detail: `${described}; kernels not checked (see libtensorflow)` };
  if (!gpu.computeCapability) {
    return {
      name,
      status: 'warn',
      detail: `${described}: the driver does not report the compute capability, so the kernels are not checked`,
      fix: 'Update the NVIDIA driver (510 or newer reports compute_cap)',
    };
  }
  const tensorflow = `TensorFlow ${stack.tensorflowVersion}`;
  const support = kernelSupport(stack.kernels, gpu.computeCapability);
  if (support.kind === 'native') {
    return {
      name,
      status: 'pass',
      detail: `${described}: ${tensorflow} has machine code for it (sm_${support.sass.replace('.', '')})`,
    };
  }
  if (support.kind === 'ptx') {
    return {
      name,
      status: 'warn',
      detail: `${described}: ${tensorflow} has no machine code for compute ${gpu.computeCapability}; the driver compiles its compute ${support.ptx} PTX at the first start (minutes; needs a driver as new as CUDA ${stack.cuda}'s)`,
      fix: 'Keep the compiled kernels: export CUDA_CACHE_MAXSIZE=4294967296 and keep CUDA_CACHE_PATH (default ~/.nv/ComputeCache) on a persistent disk; the training image keeps them under /app/checkpoints/.nv-cache',
    };
  }
  return {
    name,
    status: 'fail',
    detail: `${described}: ${tensorflow} has no kernels for compute ${gpu.computeCapability} (machine code for ${stack.kernels.sass.join(', ')})`,
    fix: `Train on a GPU of compute ${stack.kernels.sass[0]} or newer, or on the CPU with \`pnpm train --backend tensorflow\``,
  };
}

/** One check per CUDA library: present where libtensorflow looks, and loaded with dlopen. */
export function checkCudaLibraries(
  stack: CudaStack | undefined,
  loads: LoadResult[],
  requireGpu: boolean,
): CheckResult[] {
  if (!stack) {
    return [
      {
        name: 'cuda-libraries',
        status: requireGpu ? 'fail' : 'skip',
        detail: 'not provisioned: tfjs-node-gpu has no CUDA libraries from `pnpm setup:tensorflow --gpu`',
        fix: `${SETUP_GPU}, ${TRAIN_IMAGE}`,
      },
    ];
  }
  return loads.map(({ file, loaded, error }) => {
    const name = `cuda ${file.split('/').at(-1)}`;
    // pnpm's store path is long; deps/… is what tells one library from another.
    const shown = file.includes('/deps/') ? file.slice(file.lastIndexOf('/deps/') + 1) : file;
    if (loaded)
      return { name, status: 'pass', detail: `found in tfjs-node-gpu's ${shown}, loaded with dlopen` };
    return {
      name,
      status: 'fail',
      detail: `${file}: ${error}`,
      fix: 'Run `pnpm setup:tensorflow --gpu --force` (downloads and unpacks the CUDA wheels again, sha256-checked)',
    };
  });
}
