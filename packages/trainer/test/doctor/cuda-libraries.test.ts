import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  parseLdconfigCache,
  resolveLibraries,
  TENSORFLOW_CUDA_LIBRARIES,
} from '../../src/doctor/cuda-libraries.ts';
import { checkCudaLibraries } from '../../src/doctor/gpu-checks.ts';

const sample = (name: string) => readFileSync(new URL(`./samples/${name}`, import.meta.url), 'utf8');
// Recorded on this team's dev machine (CUDA 13 runtime, no cuDNN), trimmed to the relevant lines.
const CUDA13 = parseLdconfigCache(sample('ldconfig-cuda13-no-cudnn.txt'));
// The layout of nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04 (docker/train.Dockerfile's base), written
// for this test in ldconfig's format, with a 32-bit copy that must be ignored.
const CUDA11 = parseLdconfigCache(sample('ldconfig-cuda11-cudnn8.txt'));
const noFiles = () => false;

describe('CUDA and cuDNN libraries for libtensorflow 2.9', () => {
  it('parses ldconfig -p, 64-bit entries only', () => {
    expect(CUDA13.get('libcudart.so.13')).toEqual(['/usr/local/cuda-13.0/lib/libcudart.so.13']);
    expect(CUDA11.get('libcublas.so.11')).toEqual([
      '/usr/local/cuda-11.2/targets/x86_64-linux/lib/libcublas.so.11',
    ]);
    expect(CUDA11.get('libc.so.6')).toEqual(['/lib/x86_64-linux-gnu/libc.so.6']);
  });

  it('fails on a CUDA 13 machine, naming what is missing and the CUDA version it found instead', () => {
    const resolution = resolveLibraries(TENSORFLOW_CUDA_LIBRARIES, CUDA13, undefined, noFiles);
    expect(resolution.missing).toEqual([...TENSORFLOW_CUDA_LIBRARIES]);
    const check = checkCudaLibraries(resolution);
    expect(check).toMatchObject({ status: 'fail', fix: expect.stringContaining('docker/train.Dockerfile') });
    expect(check.detail).toContain('libcudnn.so.8');
    expect(check.detail).toContain('found other versions TensorFlow 2.9 cannot use: libcudart.so.13');
  });

  it('passes with the CUDA 11.2 + cuDNN 8 image layout', () => {
    const resolution = resolveLibraries(TENSORFLOW_CUDA_LIBRARIES, CUDA11, undefined, noFiles);
    expect(resolution.missing).toEqual([]);
    expect(checkCudaLibraries(resolution)).toMatchObject({
      status: 'pass',
      detail: expect.stringContaining(
        '/usr/local/cuda-11.2/targets/x86_64-linux/lib, /usr/lib/x86_64-linux-gnu',
      ),
    });
  });

  it('finds libraries through LD_LIBRARY_PATH first, as the loader does', () => {
    const pipCudnn = '/opt/venv/lib/python3.10/site-packages/nvidia/cudnn/lib';
    const resolution = resolveLibraries(
      ['libcudnn.so.8'],
      CUDA13,
      `/nowhere:${pipCudnn}`,
      (file) => file === `${pipCudnn}/libcudnn.so.8`,
    );
    expect(resolution).toEqual({
      found: [{ soname: 'libcudnn.so.8', file: `${pipCudnn}/libcudnn.so.8` }],
      missing: [],
      otherVersions: [],
    });
  });
});
