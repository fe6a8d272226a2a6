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
    const names = report.checks.map((check) => check.name);
    expect(names.slice(0, 4)).toEqual(['node', 'install', 'libtensorflow', 'nvidia-driver']);
    expect(names.slice(-6)).toEqual([
      'tensorflow-step',
      'wasm',
      'onnxruntime',
      'disk',
      'imagenet-weights',
      'prepared-data',
    ]);
    // One check per GPU and one per CUDA library (when provisioned) in between.
    for (const name of names.slice(4, -6))
      expect(name).toMatch(/^(gpus|gpu \d+|cuda-libraries|cuda lib\S+\.so[.\d]*)$/);
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
    // After `pnpm setup:tensorflow --gpu` every CUDA library is found and loads, GPU or not.
    for (const check of report.checks.filter(({ name }) => name.startsWith('cuda lib'))) {
      expect(check.status, check.name).toBe('pass');
    }
    // A machine without a GPU whose tensorflow backend works is ready for CPU training: no failure.
    const step = report.checks.find((check) => check.name === 'tensorflow-step')!;
    const noGpu = report.checks.find((check) => check.name === 'nvidia-driver')!.status !== 'pass';
    if (noGpu && step.status === 'pass') expect(run.status).toBe(0);
  }, 900_000);
});
