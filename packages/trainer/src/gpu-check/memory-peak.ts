/**
 * The peak memory of a training child while it runs, polled once a second: the GPU's used memory from
 * nvidia-smi (TensorFlow grows its allocation on demand: TF_FORCE_GPU_ALLOW_GROWTH is set for the
 * child), or the child's peak resident size (VmHWM) on the CPU.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface MemoryWatch {
  /** Stops polling; the peak in bytes, or undefined when nothing could be read. */
  stop(): number | undefined;
}

export function watchPeakMemory(pid: number, source: 'gpu' | 'host', intervalMs = 1000): MemoryWatch {
  let peak: number | undefined;
  const poll = async () => {
    const bytes = source === 'gpu' ? await gpuUsedBytes() : await peakRssBytes(pid);
    if (bytes !== undefined) peak = Math.max(peak ?? 0, bytes);
  };
  const timer = setInterval(() => void poll(), intervalMs);
  void poll();
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/** Used memory of the busiest visible GPU, from nvidia-smi. */
async function gpuUsedBytes(): Promise<number | undefined> {
  try {
    const { stdout } = await run('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits']);
    const mib = stdout.split('\n').map(Number).filter(Number.isFinite);
    return mib.length > 0 ? Math.max(...mib) * 2 ** 20 : undefined;
  } catch {
    return undefined;
  }
}

async function peakRssBytes(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const kib = status?.match(/^VmHWM:\s+(\d+)\s+kB/m);
  return kib ? Number(kib[1]) * 1024 : undefined;
}
