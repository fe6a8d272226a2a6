/**
 * The memory this process may still use on the host: Linux's MemAvailable (free memory plus what the
 * kernel can reclaim, i.e. page cache), lowered to the room left under the container's cgroup limit when
 * there is one, since past that limit the kernel kills the process. Elsewhere, `os.freemem()`.
 *
 * `--accumulate auto` plans the tensorflow backend's CPU training from it (./choose-micro-batch.ts): on the
 * CPU, TensorFlow's allocations come from the host, and running out ends the run with SIGKILL, not an
 * error the OOM retry could catch.
 */
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';

export interface HostMemory {
  availableBytes: number;
  /** Where the figure came from, for the plan's line. */
  source: string;
}

/** Reads a file's text, or undefined when it does not exist (not Linux, no cgroup). */
export type ReadText = (file: string) => string | undefined;

const readTextSync: ReadText = (file) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

export function readHostMemory(read: ReadText = readTextSync, osFree: () => number = freemem): HostMemory {
  const meminfo = read('/proc/meminfo');
  const kib = meminfo?.match(/^MemAvailable:\s+(\d+)\s+kB/m);
  const host: HostMemory = kib
    ? { availableBytes: Number(kib[1]) * 1024, source: 'MemAvailable' }
    : { availableBytes: osFree(), source: 'free memory' };
  const cgroupRoom = cgroupRoomBytes(read);
  if (cgroupRoom !== undefined && cgroupRoom < host.availableBytes) {
    return { availableBytes: cgroupRoom, source: 'room under the cgroup memory limit' };
  }
  return host;
}

/** limit − usage of the process's cgroup (v2, then v1); undefined without a limit. */
function cgroupRoomBytes(read: ReadText): number | undefined {
  const pairs: Array<[string, string]> = [
    ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory.current'],
    ['/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/memory/memory.usage_in_bytes'],
  ];
  for (const [limitFile, usageFile] of pairs) {
    const limit = Number(read(limitFile)?.trim());
    const usage = Number(read(usageFile)?.trim());
    // cgroup v2 says "max" without a limit; v1 says a number near 2^63.
    if (!Number.isFinite(limit) || !Number.isFinite(usage) || limit >= 2 ** 60) continue;
    return Math.max(0, limit - usage);
  }
  return undefined;
}
