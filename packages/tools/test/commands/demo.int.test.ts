import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
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
    const report = path.join(repoRoot, 'reports', workdir);
    const metrics = await readEvaluationMetrics(report);
    expect(metrics.numImages).toBe(80); // 4 classes × 20 official-style test images
    expect(metrics.accuracy).toBeGreaterThan(0.25); // better than chance on 4 classes
    expect(await readFile(path.join(report, 'report.html'), 'utf8')).toContain('<html');
  });

  it('rejects a bad flag with a message and a non-zero exit', async () => {
    const { code, stderr } = await runTools('demo', '--epochs', 'many');
    expect(code).not.toBe(0);
    expect(stderr).toContain('--epochs');
  });
});
