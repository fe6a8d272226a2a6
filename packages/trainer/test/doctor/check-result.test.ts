import { describe, expect, it } from 'vitest';
import { formatReport, toReport } from '../../src/doctor/check-result.ts';

describe('doctor report', () => {
  it('is not ok when a check fails, and prints each fix under its check', () => {
    const report = toReport([
      { name: 'node', status: 'pass', detail: 'Node v24.22.3' },
      {
        name: 'cuda-libraries',
        status: 'fail',
        detail: 'libcudnn.so.8 missing',
        fix: 'use docker/train.Dockerfile',
      },
      { name: 'gpus', status: 'warn', detail: 'compute 9.0', fix: 'cache PTX' },
    ]);
    expect(report.ok).toBe(false);
    expect(formatReport(report).split('\n')).toEqual([
      'pass  node            Node v24.22.3',
      'fail  cuda-libraries  libcudnn.so.8 missing',
      '                      fix: use docker/train.Dockerfile',
      'warn  gpus            compute 9.0',
      '                      fix: cache PTX',
      'doctor: 1 check failed; each names its fix above',
    ]);
    expect(toReport([{ name: 'gpus', status: 'warn', detail: 'x', fix: 'y' }]).ok).toBe(true);
  });
});
