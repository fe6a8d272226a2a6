import { describe, expect, it } from 'vitest';
import { chooseMicroBatch } from '../../src/train/choose-micro-batch.ts';
import { planMicroBatch } from '../../src/train/gpu-memory-plan.ts';
import { type ReadText, readHostMemory } from '../../src/train/host-memory.ts';
import { describeHostPlan, hostBudgetBytes, hostStepMemory } from '../../src/train/host-memory-plan.ts';
import { useFullResNet50 } from '../helpers/full-resnet50.ts';

const GiB = 2 ** 30;
const KiB = 1024;

/** A fake file system: path → contents; anything else does not exist. */
const files =
  (contents: Record<string, string>): ReadText =>
  (file) =>
    contents[file];

const MEMINFO_24G = 'MemTotal:       24598340 kB\nMemFree:         1000000 kB\nMemAvailable:   23068672 kB\n';

describe('host memory for --accumulate auto on the tensorflow CPU backend', () => {
  it('reads MemAvailable (free + reclaimable page cache), not MemFree', () => {
    const host = readHostMemory(files({ '/proc/meminfo': MEMINFO_24G }), () => 1);
    expect(host).toEqual({ availableBytes: 23_068_672 * KiB, source: 'MemAvailable' });
  });

  it('takes the room under a lower cgroup v2 limit, and ignores "max"', () => {
    const limited = readHostMemory(
      files({
        '/proc/meminfo': MEMINFO_24G,
        '/sys/fs/cgroup/memory.max': `${8 * GiB}\n`,
        '/sys/fs/cgroup/memory.current': `${1 * GiB}\n`,
      }),
    );
    expect(limited).toEqual({ availableBytes: 7 * GiB, source: 'room under the cgroup memory limit' });
    const unlimited = readHostMemory(
      files({
        '/proc/meminfo': MEMINFO_24G,
        '/sys/fs/cgroup/memory.max': 'max\n',
        '/sys/fs/cgroup/memory.current': `${1 * GiB}\n`,
      }),
    );
    expect(unlimited.source).toBe('MemAvailable');
  });

  it('reads a cgroup v1 limit, ignoring its "no limit" value near 2^63', () => {
    const v1 = (limit: string) =>
      readHostMemory(
        files({
          '/proc/meminfo': MEMINFO_24G,
          '/sys/fs/cgroup/memory/memory.limit_in_bytes': limit,
          '/sys/fs/cgroup/memory/memory.usage_in_bytes': `${2 * GiB}`,
        }),
      );
    expect(v1(`${6 * GiB}`).availableBytes).toBe(4 * GiB);
    expect(v1('9223372036854771712').source).toBe('MemAvailable');
  });

  it('falls back to os.freemem() without /proc/meminfo', () => {
    expect(readHostMemory(files({}), () => 5 * GiB)).toEqual({
      availableBytes: 5 * GiB,
      source: 'free memory',
    });
  });
});

describe('host memory plan for ResNet-50', () => {
  const resnet50 = useFullResNet50(10);

  it('estimates ~0.65 GiB per image and ~0.54 GiB fixed (the measured wasm/tensorflow step)', () => {
    const memory = hostStepMemory(resnet50());
    expect(memory.perImageBytes / GiB).toBeCloseTo(0.65, 1);
    expect(memory.fixedBytes / GiB).toBeCloseTo(0.53, 1);
  });

  it('splits the recipe batch of 128 on 24, 64 and 8 GiB hosts; the whole batch only on a big one', () => {
    const memory = hostStepMemory(resnet50());
    const plan = (availableGiB: number) => planMicroBatch(128, memory, hostBudgetBytes(availableGiB * GiB));
    // This team's 24 GiB machine with 22 GiB available: the run that was killed at batch 32 whole.
    expect(plan(22)).toMatchObject({ accumulate: 8, microBatch: 16, fits: true });
    expect(plan(64)).toMatchObject({ accumulate: 2, microBatch: 64, fits: true });
    expect(plan(8)).toMatchObject({ accumulate: 32, microBatch: 4, fits: true });
    expect(plan(120)).toMatchObject({ accumulate: 1, microBatch: 128, fits: true });
    // Measured: 8 images at once peaked at 5.8 GiB RSS, so the plan for 8 must not promise less.
    expect(memory.fixedBytes + 8 * memory.perImageBytes).toBeGreaterThan(5.2 * GiB);
    expect(plan(1)).toMatchObject({ microBatch: 1, fits: false });
  });

  it('prints the plan with the memory, its source and the budget', () => {
    const host = { availableBytes: 22 * GiB, source: 'MemAvailable' };
    const plan = planMicroBatch(128, hostStepMemory(resnet50()), hostBudgetBytes(host.availableBytes));
    expect(describeHostPlan(plan, 128, host)).toMatch(
      /^--accumulate auto: TensorFlow trains on the CPU; this machine has 22\.0 GiB available \(MemAvailable; 15\.6 GiB for the step after the process's reserve\): micro-batches of 16 \(8 per batch of 128, estimated \d+\.\d GiB\)$/,
    );
  });

  it('chooseMicroBatch plans from host memory on the tensorflow backend without a GPU, and only there', () => {
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    const readHost = () => ({ availableBytes: 22 * GiB, source: 'MemAvailable' });
    const cpuTensorflow = { backend: 'tensorflow', usesGpu: false, readHost };
    const config = { batchSize: 128, accumulate: 'auto' as const };
    expect(chooseMicroBatch(config, resnet50(), undefined, log, cpuTensorflow)).toBe(16);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/TensorFlow trains on the CPU.*micro-batches of 16/);
    // A GPU whose free memory nvidia-smi could not read: the OOM retry decides, not host memory.
    expect(chooseMicroBatch(config, resnet50(), undefined, log, { ...cpuTensorflow, usesGpu: true })).toBe(
      128,
    );
    // The pure-JS cpu backend (tests, debugging) keeps whole batches.
    expect(chooseMicroBatch(config, resnet50(), undefined, log, { ...cpuTensorflow, backend: 'cpu' })).toBe(
      128,
    );
    // A fixed --accumulate is taken as given.
    expect(
      chooseMicroBatch({ batchSize: 128, accumulate: 4 }, resnet50(), undefined, log, cpuTensorflow),
    ).toBe(32);
    expect(lines).toHaveLength(1);
  });
});
