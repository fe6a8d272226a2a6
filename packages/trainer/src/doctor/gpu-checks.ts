import type { CheckResult } from './check-result.ts';
import { type LibraryResolution, TENSORFLOW_CUDA_LIBRARIES } from './cuda-libraries.ts';
import { TRAIN_IMAGE } from './fixes.ts';
import { compareVersions, type NvidiaSmiResult, visibleGpus } from './nvidia-smi.ts';

/** CUDA 11.x minor-version compatibility needs at least this driver (NVIDIA's CUDA compatibility table). */
export const MIN_DRIVER = '450.80.02';

export function checkDriver(smi: NvidiaSmiResult): CheckResult {
  const name = 'nvidia-driver';
  if (smi.status === 'not-installed') {
    return {
      name,
      status: 'fail',
      detail:
        'nvidia-smi not found: no NVIDIA driver on this machine (or the container was started without GPUs)',
      fix: `Install the NVIDIA driver ≥ ${MIN_DRIVER}; in Docker run with \`--gpus all\` (NVIDIA Container Toolkit)`,
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
  const versions = [...new Set(smi.gpus.map((gpu) => gpu.driverVersion))];
  const version = versions[0] ?? 'unknown';
  if (smi.gpus.length === 0 || compareVersions(version, MIN_DRIVER) < 0) {
    return {
      name,
      status: 'fail',
      detail:
        smi.gpus.length === 0 ? 'nvidia-smi lists no GPU' : `driver ${version} is older than ${MIN_DRIVER}`,
      fix: `Install the NVIDIA driver ≥ ${MIN_DRIVER} (CUDA 11 needs it)`,
    };
  }
  return { name, status: 'pass', detail: `driver ${version} (≥ ${MIN_DRIVER})` };
}

/**
 * libtensorflow 2.9 is built with CUDA 11.2, which compiles for compute capabilities up to 8.6: on Ada
 * (8.9), Hopper (9.0) and newer the driver JIT-compiles TensorFlow's PTX when it starts.
 */
const NEWEST_PREBUILT_CAPABILITY = '8.6';

export function checkGpus(smi: NvidiaSmiResult, cudaVisibleDevices: string | undefined): CheckResult {
  const name = 'gpus';
  if (smi.status !== 'ok' || smi.gpus.length === 0) {
    return { name, status: 'skip', detail: 'no GPU listed (see nvidia-driver)' };
  }
  const visible = visibleGpus(smi.gpus, cudaVisibleDevices);
  const described = smi.gpus
    .map((gpu) => {
      const memory =
        gpu.memoryTotalMiB === undefined
          ? 'memory [N/A]'
          : `${(gpu.memoryTotalMiB / 1024).toFixed(1)} GiB, ${((gpu.memoryFreeMiB ?? 0) / 1024).toFixed(1)} GiB free`;
      const hidden = visible.includes(gpu) ? '' : ', hidden by CUDA_VISIBLE_DEVICES';
      return `${gpu.index}: ${gpu.name} (${memory}, compute ${gpu.computeCapability ?? 'unknown'}${hidden})`;
    })
    .join('; ');
  if (visible.length === 0) {
    return {
      name,
      status: 'fail',
      detail: `${described}; CUDA_VISIBLE_DEVICES="${cudaVisibleDevices}" hides all of them`,
      fix: 'Unset CUDA_VISIBLE_DEVICES or list a GPU in it',
    };
  }
  const jit = visible.filter(
    (gpu) => gpu.computeCapability && compareVersions(gpu.computeCapability, NEWEST_PREBUILT_CAPABILITY) > 0,
  );
  if (jit.length > 0) {
    return {
      name,
      status: 'warn',
      detail: `${described}. TensorFlow 2.9 has no kernels for compute ${jit[0]!.computeCapability}: the driver JIT-compiles its PTX at every start (minutes) unless cached`,
      fix: 'Keep the compiled kernels: export CUDA_CACHE_MAXSIZE=4294967296 and keep CUDA_CACHE_PATH (default ~/.nv/ComputeCache) on a persistent disk; the training image sets both (cache under /app/checkpoints/.nv-cache)',
    };
  }
  return { name, status: 'pass', detail: described };
}

export function checkCudaLibraries(resolution: LibraryResolution): CheckResult {
  const name = 'cuda-libraries';
  if (resolution.missing.length === 0) {
    const folders = [...new Set(resolution.found.map(({ file }) => file.replace(/\/[^/]+$/, '')))];
    return {
      name,
      status: 'pass',
      detail: `CUDA 11 and cuDNN 8 resolvable (${TENSORFLOW_CUDA_LIBRARIES.length} libraries, in ${folders.join(', ')})`,
    };
  }
  const others = resolution.otherVersions.length
    ? `; found other versions TensorFlow 2.9 cannot use: ${resolution.otherVersions.join(', ')}`
    : '';
  return {
    name,
    status: 'fail',
    detail: `the loader cannot find ${resolution.missing.join(', ')} (LD_LIBRARY_PATH, ldconfig -p)${others}`,
    fix: `Install the CUDA 11.x runtime libraries and cuDNN 8 (e.g. CUDA 11.2 + cuDNN 8.1) and add their folder to LD_LIBRARY_PATH, ${TRAIN_IMAGE}`,
  };
}
