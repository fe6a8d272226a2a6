/**
 * Which NVIDIA wheels a TensorFlow release runs on: its `and-cuda` extra (`pip install tensorflow[and-cuda]`)
 * lists NVIDIA's CUDA 12 wheels on PyPI. Since 2.14 it gives ranges (`>=12.5.3.2,<13.0`) whose lower
 * bound is the version TensorFlow was built and tested with (its hermetic CUDA); that lower bound is what
 * we install, so one TensorFlow release always gets the same bytes, however many CUDA 12 updates follow.
 */
import { UserError } from '@food/core/errors';
import { findLinuxWheel, type WheelFile } from './pypi-wheel.ts';

export interface CudaRequirement {
  /** PyPI project, e.g. nvidia-cublas-cu12. */
  project: string;
  version: string;
}

/**
 * Pinned by the extra but not provisioned, with why: each is for something tfjs-node never does, and
 * together they are 340 MiB. Every other project of the extra is installed.
 */
export const SKIPPED_CUDA_PROJECTS: Readonly<Record<string, string>> = {
  'nvidia-nccl-cu12': 'collectives between GPUs; tfjs-node trains on one',
  'nvidia-cuda-cupti-cu12': "the profiler's tracing library",
  'nvidia-cuda-nvcc-cu12': "ptxas for XLA's JIT, which tfjs-node does not run",
  'nvidia-nvshmem-cu12': 'memory shared between GPUs; tfjs-node trains on one',
};

/** `Requires-Dist` entries (PyPI's `requires_dist`) of the `and-cuda` extra, as pinned versions. */
export function andCudaRequirements(requiresDist: readonly string[]): CudaRequirement[] {
  return requiresDist
    .filter((entry) => /extra\s*==\s*["']and-cuda["']/.test(entry))
    .map((entry) => {
      const spec = entry.split(';')[0]!.trim();
      const project = /^[A-Za-z0-9._-]+/.exec(spec)![0].toLowerCase();
      const version = /==\s*([\w.]+)/.exec(spec)?.[1] ?? />=\s*([\w.]+)/.exec(spec)?.[1];
      if (!version) {
        throw new UserError(
          `TensorFlow's and-cuda extra gives "${spec}" with neither == nor >=: cannot tell which version to install. Pass another --tensorflow version.`,
        );
      }
      return { project, version };
    });
}

/** The requirements to provision: the extra's, less the skipped ones. */
export function provisionedRequirements(requiresDist: readonly string[]): CudaRequirement[] {
  return andCudaRequirements(requiresDist).filter(({ project }) => !(project in SKIPPED_CUDA_PROJECTS));
}

/** `Requires-Dist:` lines of a wheel's METADATA (RFC 822 headers, one requirement a line). */
export function parseRequiresDist(metadata: string): string[] {
  const headers = metadata.split(/\r?\n\r?\n/)[0] ?? '';
  return [...headers.matchAll(/^Requires-Dist:\s*(.+)$/gm)].map((match) => match[1]!.trim());
}

/**
 * `requires_dist` of `project==version` from PyPI's JSON API: the release's own page, or the project's
 * page when that release is the newest (some mirrors serve only the latter). Undefined when neither
 * answers for that version; then the wheel's own METADATA is read after its download.
 */
export async function fetchRequiresDist(
  project: string,
  version: string,
  baseUrl = 'https://pypi.org/pypi',
): Promise<string[] | undefined> {
  for (const url of [`${baseUrl}/${project}/${version}/json`, `${baseUrl}/${project}/json`]) {
    const response = await fetch(url).catch(() => undefined);
    if (!response?.ok) {
      await response?.body?.cancel();
      continue;
    }
    const { info } = (await response.json()) as { info: { version: string; requires_dist?: string[] } };
    if (info.version === version) return info.requires_dist ?? [];
  }
  return undefined;
}

export interface CudaWheel extends CudaRequirement, WheelFile {}

/** Each provisioned requirement's Linux x86-64 wheel on PyPI (name, size, sha256), looked up in parallel. */
export function findCudaWheels(requiresDist: readonly string[]): Promise<CudaWheel[]> {
  return Promise.all(
    provisionedRequirements(requiresDist).map(async (requirement) => ({
      ...requirement,
      ...(await findLinuxWheel(requirement.project, requirement.version)),
    })),
  );
}
