import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/doctor/check-result.ts';
import { repoRoot } from '../helpers/run-trainer.ts';

describe('pnpm run doctor --json (a real run on this machine)', () => {
  it('prints every check with a fix for each that does not pass, and exits 1 exactly when one fails', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'packages/trainer/src/doctor/cli.ts', '--json'],
      {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 900_000,
      },
    );
    const report = JSON.parse(run.stdout) as DoctorReport;
    expect(report.checks.map((check) => check.name)).toEqual([
      'node',
      'install',
      'tfjs-node-gpu',
      'nvidia-driver',
      'gpus',
      'cuda-libraries',
      'tensorflow-step',
      'wasm',
      'onnxruntime',
      'disk',
      'imagenet-weights',
      'prepared-data',
    ]);
    for (const check of report.checks) {
      expect(['pass', 'warn', 'fail', 'skip']).toContain(check.status);
      if (check.status === 'fail' || check.status === 'warn')
        expect(check.fix, check.name).toEqual(expect.any(String));
    }
    expect(report.ok).toBe(report.checks.every((check) => check.status !== 'fail'));
    expect(run.status).toBe(report.ok ? 0 : 1);
    // What the repository itself provides works on every machine.
    for (const name of ['install', 'wasm', 'onnxruntime']) {
      expect(report.checks.find((check) => check.name === name)?.status, name).toBe('pass');
    }
  }, 900_000);
});
