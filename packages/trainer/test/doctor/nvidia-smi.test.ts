import { describe, expect, it } from 'vitest';
import { checkDriver, checkGpus } from '../../src/doctor/gpu-checks.ts';
import {
  compareVersions,
  parseNvidiaSmiCsv,
  queryNvidiaSmi,
  visibleGpus,
} from '../../src/doctor/nvidia-smi.ts';
import { H100, H100_NOUNITS } from './h100.ts';

// Output in the shapes nvidia-smi prints. From public reports: a 4 × A800 box queried with units, a
// TITAN V + RTX 5880 box with compute_cap (driver 570), DGX Spark's GB10 (unified memory: [N/A]), and
// the message of drivers < 510, which cannot report compute_cap (driver 470). The H100 line is what the
// doctor's own query prints (--format=csv,nounits), written for these tests: no GPU of ours runs it.
const A800_WITH_UNITS = `name, memory.total [MiB], memory.free [MiB]
NVIDIA A800-SXM4-80GB, 81920 MiB, 81176 MiB
NVIDIA A800-SXM4-80GB, 81920 MiB, 81176 MiB
NVIDIA A800-SXM4-80GB, 81920 MiB, 81176 MiB
NVIDIA A800-SXM4-80GB, 81920 MiB, 81176 MiB
`;
const TITAN_AND_ADA = `compute_cap, compute_mode, driver_version, name, index
7.0, Default, 570.86.15, NVIDIA TITAN V, 0
8.9, Default, 570.86.15, NVIDIA RTX 5880 Ada Generation, 1
`;
const GB10_UNIFIED = `name, memory.total [MiB], memory.free [MiB], memory.used [MiB]
NVIDIA GB10, [N/A], [N/A], [N/A]
`;
const DRIVER_470_ERROR = 'Field "compute_cap" is not a valid field to query.';
const T4_OLD_DRIVER = `index, name, driver_version, memory.total [MiB], memory.free [MiB]
0, Tesla T4, 418.87.01, 15109, 15109
`;

describe('nvidia-smi parsing', () => {
  it('reads the columns by their header, with or without units', () => {
    expect(parseNvidiaSmiCsv(H100_NOUNITS)).toEqual([H100]);
    const a800 = parseNvidiaSmiCsv(A800_WITH_UNITS);
    expect(a800.map((gpu) => [gpu.index, gpu.memoryTotalMiB, gpu.memoryFreeMiB])).toEqual([
      [0, 81_920, 81_176],
      [1, 81_920, 81_176],
      [2, 81_920, 81_176],
      [3, 81_920, 81_176],
    ]);
    expect(
      parseNvidiaSmiCsv(TITAN_AND_ADA).map((gpu) => [gpu.index, gpu.name, gpu.computeCapability]),
    ).toEqual([
      [0, 'NVIDIA TITAN V', '7.0'],
      [1, 'NVIDIA RTX 5880 Ada Generation', '8.9'],
    ]);
  });

  it('leaves memory unknown where the driver says [N/A] (unified memory)', () => {
    expect(parseNvidiaSmiCsv(GB10_UNIFIED)).toEqual([
      expect.objectContaining({ name: 'NVIDIA GB10', memoryTotalMiB: undefined, memoryFreeMiB: undefined }),
    ]);
  });

  it('asks again without compute_cap when the driver is older than 510', async () => {
    const queries: string[][] = [];
    const result = await queryNvidiaSmi(async (args) => {
      queries.push(args);
      if (args[0]!.includes('compute_cap'))
        throw Object.assign(new Error('exit 2'), { stdout: DRIVER_470_ERROR });
      return T4_OLD_DRIVER;
    });
    expect(queries).toHaveLength(2);
    expect(result).toEqual({
      status: 'ok',
      gpus: [expect.objectContaining({ name: 'Tesla T4', computeCapability: undefined })],
    });
    expect(
      await queryNvidiaSmi(async () =>
        Promise.reject(Object.assign(new Error('spawn nvidia-smi ENOENT'), { code: 'ENOENT' })),
      ),
    ).toEqual({
      status: 'not-installed',
    });
  });

  it('compares driver versions numerically and honours CUDA_VISIBLE_DEVICES', () => {
    expect(compareVersions('450.80.02', '450.119.03')).toBeLessThan(0);
    expect(compareVersions('535.104.05', '450.80.02')).toBeGreaterThan(0);
    const gpus = parseNvidiaSmiCsv(TITAN_AND_ADA);
    expect(visibleGpus(gpus, '1').map((gpu) => gpu.index)).toEqual([1]);
    expect(visibleGpus(gpus, '')).toEqual([]);
    expect(visibleGpus(gpus, undefined)).toHaveLength(2);
  });
});

describe('driver and GPU checks', () => {
  it('passes a recent driver and fails an old or absent one with the fix', () => {
    expect(checkDriver({ status: 'ok', gpus: parseNvidiaSmiCsv(H100_NOUNITS) })).toMatchObject({
      status: 'pass',
      detail: 'driver 550.54.15 (≥ 450.80.02)',
    });
    expect(checkDriver({ status: 'ok', gpus: parseNvidiaSmiCsv(T4_OLD_DRIVER) })).toMatchObject({
      status: 'fail',
      detail: 'driver 418.87.01 is older than 450.80.02',
      fix: expect.stringContaining('≥ 450.80.02'),
    });
    expect(checkDriver({ status: 'not-installed' })).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('--gpus all'),
    });
  });

  it('warns on Hopper and Ada (PTX compiled at start-up) and says how to cache it', () => {
    const hopper = checkGpus({ status: 'ok', gpus: parseNvidiaSmiCsv(H100_NOUNITS) }, undefined);
    expect(hopper).toMatchObject({ status: 'warn', fix: expect.stringContaining('CUDA_CACHE_MAXSIZE') });
    expect(hopper.detail).toMatch(
      /^0: NVIDIA H100 80GB HBM3 \(79\.6 GiB, 78\.7 GiB free, compute 9\.0\)\. .*compute 9\.0/,
    );
    const titanOnly = checkGpus({ status: 'ok', gpus: parseNvidiaSmiCsv(TITAN_AND_ADA) }, '0');
    expect(titanOnly.status).toBe('pass');
    expect(titanOnly.detail).toContain('hidden by CUDA_VISIBLE_DEVICES');
    expect(checkGpus({ status: 'ok', gpus: parseNvidiaSmiCsv(TITAN_AND_ADA) }, undefined).status).toBe(
      'warn',
    );
  });
});
