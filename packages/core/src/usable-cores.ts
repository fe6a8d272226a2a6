import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';

/**
 * How many cores this process may keep busy: the CPUs it may run on (`os.availableParallelism()`, which
 * follows the CPU affinity mask), capped by a cgroup CPU quota when there is one. A Kubernetes CPU limit
 * or `docker run --cpus` is such a quota; Node 20's libuv ignores it and reports every core of the
 * machine, so a pod limited to 2 CPUs on a 64-core node would start 64 inference threads and be
 * throttled. The quota is read from cgroup v2's `cpu.max`, or v1's `cpu.cfs_quota_us` / `cpu.cfs_period_us`.
 */
export function usableCores(cgroupRoot = '/sys/fs/cgroup'): number {
  const cores = availableParallelism();
  const quota = cpuQuota(cgroupRoot);
  return quota === undefined ? cores : Math.max(1, Math.min(cores, Math.ceil(quota)));
}

/** CPUs' worth of time per period the cgroup allows, or undefined without a limit. */
function cpuQuota(cgroupRoot: string): number | undefined {
  const read = (file: string) => {
    try {
      return readFileSync(path.join(cgroupRoot, file), 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  const v2 = read('cpu.max'); // "max 100000" or "200000 100000"
  if (v2 !== undefined) {
    const [quota, period] = v2.split(/\s+/);
    return quota === 'max' ? undefined : ratio(quota, period);
  }
  const v1Quota = read('cpu/cpu.cfs_quota_us'); // -1 without a limit
  if (v1Quota === undefined || Number(v1Quota) < 0) return undefined;
  return ratio(v1Quota, read('cpu/cpu.cfs_period_us'));
}

function ratio(quota: string | undefined, period: string | undefined): number | undefined {
  const value = Number(quota) / Number(period);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}
