import { describe, expect, it } from 'vitest';
import { checkPlan } from '../../src/gpu-check/check-plan.ts';
import { formatGpuCheck } from '../../src/gpu-check/format-result.ts';
import type { GpuCheckResult } from '../../src/gpu-check/run-gpu-check.ts';

function result(overrides: Partial<GpuCheckResult>): GpuCheckResult {
  return {
    ok: true,
    mode: 'gpu',
    plan: checkPlan(true),
    backend: 'tensorflow (GPU)',
    doctor: { ok: true, failed: [], warned: [] },
    training: {
      ok: true,
      planLine: '--accumulate auto: NVIDIA H100 80GB HBM3 has 78.7 GiB free: micro-batches of 64',
      microBatch: 64,
      imagesPerSecond: 1234.5,
      peakMemoryBytes: 40 * 2 ** 30,
      peakMemoryOf: 'gpu',
      savedAtStep: 50,
      killedAfterStep: 54,
      stepAfterKill: 50,
      finalStep: 100,
      seconds: 300,
    },
    evaluation: {
      ...{ images: 512, tfjsTop1: 0.1, onnxTop1: 0.1, disagreements: 0, maxProbabilityDifference: 3e-6 },
      ...{ tfjsSeconds: 5, onnxSeconds: 20, ok: true },
    },
    seconds: 480,
    ...overrides,
  };
}

describe('gpu:check results screen', () => {
  it('shows the plan, speed, peak GPU memory, the kill and the comparison on one screen', () => {
    const screen = formatGpuCheck(result({}));
    expect(screen.split('\n')[0]).toBe('gpu:check on the GPU');
    expect(screen).toMatch(/speed +1234\.5 training images\/s/);
    expect(screen).toMatch(/peak memory +40\.00 GiB of GPU memory \(nvidia-smi\)/);
    expect(screen).toMatch(
      /saved at step 50; SIGKILL after step 54; latest still at step 50; resumed to step 100 of 100/,
    );
    expect(screen).toMatch(
      /512 test images: .* 0 top-1 disagreements, max \|Δp\| 3\.0e-6 \(bound 0\.001\): same/,
    );
    expect(screen).toMatch(/result +PASS in 8 min 0 s$/);
    expect(screen.split('\n').length).toBeLessThanOrEqual(24);
  });

  it('fails on a GPU when the doctor fails; the CPU fallback reports the doctor but judges the pipeline', () => {
    const doctor = { ok: false, failed: ['nvidia-driver: nvidia-smi not found'], warned: [] };
    expect(formatGpuCheck(result({ ok: false, doctor }))).toMatch(
      /doctor +FAILED: nvidia-driver.*\n[\s\S]*result +FAIL in/,
    );
    const fallback = formatGpuCheck(result({ mode: 'cpu-fallback', plan: checkPlan(false), doctor }));
    expect(fallback.split('\n')[0]).toMatch(/^gpu:check: CPU FALLBACK\. No GPU is visible/);
    expect(formatGpuCheck(result({ doctor: { ok: true, failed: [], warned: [], skipped: true } }))).toMatch(
      /doctor +skipped \(--no-doctor\)/,
    );
    expect(fallback).toMatch(
      /PASS \(CPU fallback: the pipeline works; the doctor's failures above are what a GPU run would need\)/,
    );
  });

  it('plans 100 full-size steps on a GPU and a smaller run on the CPU', () => {
    expect(checkPlan(true)).toMatchObject({
      steps: 100,
      saveAt: 50,
      imageSize: 224,
      width: 1,
      batchSize: 128,
    });
    expect(checkPlan(false)).toMatchObject({ mode: 'cpu-fallback', steps: 12, saveAt: 6, width: 0.25 });
  });
});
