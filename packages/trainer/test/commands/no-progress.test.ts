import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTrainer } from '../helpers/run-trainer.ts';

const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

describe('--no-progress (logs, Docker, CI)', () => {
  it('prints plain progress lines instead of staying silent', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'no-progress-'));
    roots.push(root);
    const data = path.join(root, 'data');
    expect(
      (await runTrainer('synth', '--out', data, '--classes', '2', '--images-per-class', '6')).status,
    ).toBe(0);
    const prepare = await runTrainer(
      'prepare',
      '--data',
      data,
      '--out',
      path.join(root, 'prepared'),
      '--classes',
      '2',
      '--no-progress',
    );
    expect(prepare.status, prepare.stderr).toBe(0);
    expect(prepare.stderr).toMatch(/^checking images 1\/12 \(8%\) ETA \d+s$/m);
    expect(prepare.stderr).toMatch(/^checking images 12\/12 \(100%\) ETA 0s$/m);
    expect(prepare.stderr).not.toMatch(/\[[█░ ]+\]/); // no bar
  });
});
