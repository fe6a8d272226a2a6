import { describe, expect, it } from 'vitest';
import {
  checkOnnx,
  checkTensorflowStep,
  checkWasm,
  parseTensorflowDevice,
} from '../../src/doctor/probe-checks.ts';

// TensorFlow 2.9's log line when it creates a GPU device (gpu_device.cc), as printed by tfjs-node-gpu.
const TF_GPU_LOG =
  '2023-04-12 09:14:03.512874: I tensorflow/core/common_runtime/gpu/gpu_device.cc:1532] Created device /job:localhost/replica:0/task:0/device:GPU:0 with 14791 MB memory:  -> device: 0, name: Tesla V100-SXM2-16GB, pci bus id: 0000:00:1e.0, compute capability: 7.0\n';

describe('runtime probe checks', () => {
  it('names the GPU TensorFlow created its device on', () => {
    expect(parseTensorflowDevice(TF_GPU_LOG)).toBe('GPU:0 Tesla V100-SXM2-16GB, 14791 MB for TensorFlow');
    expect(parseTensorflowDevice('backend: tensorflow (CPU)')).toBeUndefined();
  });

  it('passes a step that ran on the GPU, with its device and speed; fails one that ran on the CPU', () => {
    // A 16 GB V100 planned micro-batches of 16 for the recipe's batch of 128, then halved once on an OOM.
    const result = {
      batch: 128,
      plannedMicroBatch: 16,
      microBatch: 8,
      firstStepSeconds: 41.2,
      imagesPerSecond: 212.5,
    };
    const gpuBox = { requireGpu: false, gpuListed: true };
    expect(
      checkTensorflowStep({ ok: true, result: { ...result, gpu: true }, log: TF_GPU_LOG }, gpuBox),
    ).toEqual({
      name: 'tensorflow-step',
      status: 'pass',
      detail:
        'ResNet-50 forward + backward at 224 px, batch 128 as micro-batches of 8 (planned 16, halved after running out of memory), on GPU:0 Tesla V100-SXM2-16GB, 14791 MB for TensorFlow: 212.5 images/s (first step 41.2 s)',
    });
    expect(
      checkTensorflowStep({ ok: true, result: { ...result, gpu: false }, log: '' }, gpuBox),
    ).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('no usable CUDA device'),
      fix: expect.stringContaining('pnpm setup:tensorflow --gpu'),
    });
    expect(checkTensorflowStep(undefined, gpuBox).status).toBe('skip');
    expect(
      checkTensorflowStep(
        { ok: false, reason: 'exit code 1: libcudnn.so.9: cannot open shared object file', log: '' },
        gpuBox,
      ),
    ).toMatchObject({ status: 'fail', detail: expect.stringContaining('libcudnn.so.9') });
  });

  it('a CPU step is the ready CPU path on a machine with no GPU, and a failure with --gpu', () => {
    const cpu = {
      gpu: false,
      batch: 2,
      plannedMicroBatch: 2,
      microBatch: 2,
      firstStepSeconds: 5,
      imagesPerSecond: 0.6,
    };
    expect(
      checkTensorflowStep({ ok: true, result: cpu, log: '' }, { requireGpu: false, gpuListed: false }),
    ).toMatchObject({ status: 'pass', detail: expect.stringContaining('batch 2, on CPU: 0.6 images/s') });
    expect(
      checkTensorflowStep({ ok: true, result: cpu, log: '' }, { requireGpu: true, gpuListed: false }).status,
    ).toBe('fail');
  });

  it('checks wasm threads and ONNX Runtime results', () => {
    expect(checkWasm({ ok: true, result: { simd: true, threads: 4 }, log: '' }).status).toBe('pass');
    expect(checkWasm({ ok: false, reason: 'exit code 1: worker failed', log: '' }).status).toBe('fail');
    expect(checkOnnx({ ok: true, result: { output: [4, 6] }, log: '' }).status).toBe('pass');
    expect(checkOnnx({ ok: true, result: { output: [0, 0] }, log: '' })).toMatchObject({
      status: 'fail',
      fix: expect.any(String),
    });
  });
});
