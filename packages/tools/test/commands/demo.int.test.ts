import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { readInt8Guard } from '@food/core/checkpoint/int8-guard';
import { readEvaluationMetrics } from '@food/core/report/report-metrics-file';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runTools } from '../helpers/run-tools.ts';

const workdir = `demo-test-${process.pid}`;

describe('pnpm demo --no-serve', () => {
  afterAll(async () => {
    for (const top of ['data', 'checkpoints', 'reports']) {
      await rm(path.join(repoRoot, top, workdir), { recursive: true, force: true });
    }
  });

  it('runs synth → prepare → stats → train → evaluate and leaves a checkpoint and a report', async () => {
    const { code, stderr } = await runTools(
      'demo',
      '--no-serve',
      '--workdir',
      workdir,
      '--epochs',
      '3',
      '--classes',
      '4',
    );
    expect(code, stderr).toBe(0);
    for (const step of ['generating', 'preparing splits', 'statistics', 'training', 'evaluating', 'done']) {
      expect(stderr).toContain(step);
    }
    const best = path.join(repoRoot, 'checkpoints', workdir, 'best');
    expect((await stat(path.join(best, 'weights.bin'))).size).toBeGreaterThan(0);
    // The model card reads this to say the model never saw a food photo.
    const runConfig = JSON.parse(await readFile(path.join(best, 'run-config.json'), 'utf8'));
    expect(runConfig.dataset).toEqual({ name: '4 synthetic classes', synthetic: true });
    // Exported as pnpm train exports: float32, and int8 only where the guard kept it, with its record.
    expect((await stat(`${best}.onnx`)).size).toBeGreaterThan(0);
    const guard = await readInt8Guard(`${best}.int8.guard.json`);
    expect(guard?.figures?.images).toBeGreaterThan(0);
    expect(
      await stat(`${best}.int8.onnx`).then(
        () => 'kept',
        () => 'refused',
      ),
    ).toBe(guard?.decision);
    expect(stderr).toContain(guard?.reason);
    const report = path.join(repoRoot, 'reports', workdir);
    const metrics = await readEvaluationMetrics(report);
    expect(metrics.numImages).toBe(80); // 4 classes × 20 official-style test images
    expect(metrics.accuracy).toBeGreaterThan(0.25); // better than chance on 4 classes
    expect(await readFile(path.join(report, 'report.html'), 'utf8')).toContain('<html');
  });

  it("a second run that fails leaves the first run's checkpoint and report as they were", async () => {
    const best = path.join(repoRoot, 'checkpoints', workdir, 'best', 'weights.bin');
    const metrics = path.join(repoRoot, 'reports', workdir, 'metrics.json');
    const before = [await readFile(best), await readFile(metrics, 'utf8')];
    // A folder that is not a checkpoint: the checks pass, the evaluation fails after prepare ran.
    const notACheckpoint = path.join(repoRoot, 'data', `${workdir}-empty`);
    await mkdir(notACheckpoint, { recursive: true });
    try {
      const { code } = await runTools(
        'demo',
        '--no-serve',
        '--workdir',
        workdir,
        '--data',
        path.join('data', workdir, 'food'),
        '--classes',
        '4',
        '--checkpoint',
        notACheckpoint,
      );
      expect(code).not.toBe(0);
    } finally {
      await rm(notACheckpoint, { recursive: true, force: true });
    }
    expect([await readFile(best), await readFile(metrics, 'utf8')]).toEqual(before);
    for (const top of ['data', 'checkpoints', 'reports']) {
      expect(await readdir(path.join(repoRoot, top))).not.toContain(`${workdir}.previous`);
    }
    expect(await readdir(path.join(repoRoot, 'data', workdir))).toEqual(['food', 'prepared']);
  });

  it('rejects a bad flag with a message and a non-zero exit', async () => {
    const { code, stderr } = await runTools('demo', '--epochs', 'many');
    expect(code).not.toBe(0);
    expect(stderr).toContain('--epochs');
  });
});
