import { describe, expect, it } from 'vitest';
import { cudaStack, kernelSupport } from '../../src/doctor/cuda-stack.ts';
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

// What `pnpm setup:tensorflow --gpu` records for TensorFlow 2.21.0 (kernels read from its .nv_fatbin).
const TF221 = cudaStack(
  {
    wheel: 'tensorflow-2.21.0-cp310-cp310-manylinux_2_27_x86_64.whl',
    sha256: 'x',
    napiVersion: 8,
    tensorflowVersion: '2.21.0',
    cuda: {
      wheels: [
        { project: 'nvidia-cuda-runtime-cu12', version: '12.5.82', filename: 'r.whl', sha256: 'r' },
        { project: 'nvidia-cudnn-cu12', version: '9.3.0.75', filename: 'c.whl', sha256: 'c' },
      ],
      libraries: ['nvidia/cuda_runtime/lib/libcudart.so.12'],
      kernels: { sass: ['6.0', '7.0', '8.0', '8.9', '9.0'], ptx: ['9.0'] },
    },
  },
  '/deps',
)!;
const BLACKWELL = `index, name, driver_version, memory.total [MiB], memory.free [MiB], compute_cap
0, NVIDIA B200, 570.124.06, 183359, 182000, 10.0
`;
const MAXWELL_AND_T4 = `index, name, driver_version, memory.total [MiB], memory.free [MiB], compute_cap
0, Tesla M60, 535.104.05, 8192, 8000, 5.2
1, Tesla T4, 535.104.05, 15360, 15000, 7.5
`;

describe('driver and GPU checks', () => {
  it('reads the stack: CUDA 12.5, cuDNN 9.3, the CUDA 12 minimum driver, absolute library paths', () => {
    expect(TF221).toMatchObject({
      tensorflowVersion: '2.21.0',
      cuda: '12.5',
      cudnn: '9.3',
      minDriver: '525.60.13',
    });
    expect(TF221.libraries).toEqual(['/deps/nvidia/cuda_runtime/lib/libcudart.so.12']);
    expect(cudaStack(undefined, '/deps')).toBeUndefined();
  });

  it('passes a driver new enough for the CUDA major, fails an old one; no driver fails only with --gpu', () => {
    expect(checkDriver({ status: 'ok', gpus: parseNvidiaSmiCsv(H100_NOUNITS) }, TF221, false)).toMatchObject({
      status: 'pass',
      detail: 'driver 550.54.15 (≥ 525.60.13 for CUDA 12.5)',
    });
    expect(checkDriver({ status: 'ok', gpus: parseNvidiaSmiCsv(T4_OLD_DRIVER) }, TF221, false)).toMatchObject(
      {
        status: 'fail',
        detail: 'driver 418.87.01 is older than 525.60.13, the oldest CUDA 12.5 runs on',
        fix: expect.stringContaining('≥ 525.60.13'),
      },
    );
    expect(checkDriver({ status: 'not-installed' }, TF221, true)).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('--gpus all'),
    });
    expect(checkDriver({ status: 'not-installed' }, TF221, false)).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('training runs on the CPU'),
    });
  });

  it('per GPU: machine code (Hopper natively, T4 on the 7.0 code), PTX for newer, nothing for older', () => {
    const [hopper] = checkGpus({ status: 'ok', gpus: parseNvidiaSmiCsv(H100_NOUNITS) }, undefined, TF221);
    expect(hopper).toMatchObject({ name: 'gpu 0', status: 'pass' });
    expect(hopper!.detail).toMatch(
      /^0: NVIDIA H100 80GB HBM3 \(79\.6 GiB, 78\.7 GiB free, compute 9\.0\): TensorFlow 2\.21\.0 has machine code for it \(sm_90\)$/,
    );
    const [maxwell, t4] = checkGpus(
      { status: 'ok', gpus: parseNvidiaSmiCsv(MAXWELL_AND_T4) },
      undefined,
      TF221,
    );
    expect(maxwell).toMatchObject({ status: 'fail', fix: expect.stringContaining('compute 6.0 or newer') });
    expect(t4).toMatchObject({ status: 'pass', detail: expect.stringContaining('(sm_70)') });
    const [blackwell] = checkGpus({ status: 'ok', gpus: parseNvidiaSmiCsv(BLACKWELL) }, undefined, TF221);
    expect(blackwell).toMatchObject({ status: 'warn', fix: expect.stringContaining('CUDA_CACHE_MAXSIZE') });
    expect(blackwell!.detail).toContain('compiles its compute 9.0 PTX');
  });

  it('honours CUDA_VISIBLE_DEVICES', () => {
    const titanOnly = checkGpus({ status: 'ok', gpus: parseNvidiaSmiCsv(TITAN_AND_ADA) }, '0', TF221);
    expect(titanOnly.map((check) => check.name)).toEqual(['gpu 0']);
    expect(checkGpus({ status: 'ok', gpus: parseNvidiaSmiCsv(TITAN_AND_ADA) }, '', TF221)).toMatchObject([
      { name: 'gpus', status: 'fail', fix: expect.stringContaining('CUDA_VISIBLE_DEVICES') },
    ]);
  });

  it('kernelSupport follows NVIDIA binary compatibility: same major, older or equal minor', () => {
    const kernels = TF221.kernels;
    expect(kernelSupport(kernels, '8.6')).toEqual({ kind: 'native', sass: '8.0' });
    expect(kernelSupport(kernels, '8.9')).toEqual({ kind: 'native', sass: '8.9' });
    expect(kernelSupport(kernels, '12.0')).toEqual({ kind: 'ptx', ptx: '9.0' });
    expect(kernelSupport(kernels, '5.2')).toEqual({ kind: 'none' });
  });
});
