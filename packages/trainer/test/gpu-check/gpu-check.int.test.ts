import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatGpuCheck } from '../../src/gpu-check/format-result.ts';
import { runGpuCheck } from '../../src/gpu-check/run-gpu-check.ts';

// The CPU fallback of `pnpm gpu:check` end to end at a tiny size: synthetic data, three real `pnpm train`
// processes (save at step 1, SIGKILL after step 2, resume to step 3), ONNX export, both engines compared.
// About 30 s on an idle 2-core machine (three Node start-ups dominate); the limit allows for a loaded one.
let workDir: string | undefined;
afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('pnpm gpu:check, CPU fallback', () => {
  it('saves, survives a SIGKILL, resumes, and the checkpoint agrees with its ONNX export', async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'gpu-check-test-'));
    const lines: string[] = [];
    const result = await runGpuCheck({
      overrides: {
        ...{ steps: 3, imageSize: 32, width: 1 / 16, blocks: [1, 1, 1, 1], batchSize: 8 },
        ...{ classes: 3, imagesPerClass: 12, evalImages: 9 },
      },
      workDir,
      log: (line) => lines.push(line),
      hasGpu: async () => false,
      // The doctor has its own tests; here a warning must come through to the summary.
      doctor: async () => [{ name: 'gpu', status: 'warn', detail: 'no GPU', fix: 'pnpm run doctor --gpu' }],
    });
    expect(result.mode).toBe('cpu-fallback');
    expect(result.doctor).toEqual({ ok: true, failed: [], warned: ['gpu: no GPU'] });
    expect(result.training).toMatchObject({ ok: true, savedAtStep: 1, stepAfterKill: 1, finalStep: 3 });
    expect(result.training.killedAfterStep).toBeGreaterThanOrEqual(2);
    expect(result.training.peakMemoryBytes).toBeGreaterThan(0);
    expect(result.evaluation).toMatchObject({ images: 9, disagreements: 0, ok: true });
    expect(result.evaluation!.maxProbabilityDifference).toBeLessThanOrEqual(1e-3);
    expect(result.ok).toBe(true);
    expect(lines.join('\n')).toMatch(/NO GPU visible .* CPU fallback/);
    const screen = formatGpuCheck(result);
    expect(screen).toMatch(/^gpu:check: CPU FALLBACK\. No GPU is visible/);
    expect(screen).toMatch(
      /save\/kill\/resume +saved at step 1; SIGKILL after step \d+; latest still at step 1; resumed to step 3 of 3/,
    );
    expect(screen).toMatch(/result +PASS \(CPU fallback: the pipeline works\) in /);
    expect(screen.split('\n').length).toBeLessThanOrEqual(24);
  }, 300_000);
});
