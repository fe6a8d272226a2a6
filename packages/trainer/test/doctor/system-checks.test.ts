import { describe, expect, it } from 'vitest';
import { checkDisk, checkNodeVersion } from '../../src/doctor/system-checks.ts';

describe('node and disk checks', () => {
  it('passes Node 24, warns on 20 (end of life) and untested lines, fails before 20.9', () => {
    expect(checkNodeVersion('v24.22.3').status).toBe('pass');
    expect(checkNodeVersion('v20.20.2')).toMatchObject({ status: 'warn', fix: 'Move to Node 24 LTS' });
    expect(checkNodeVersion('v22.12.0')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('not a line CI tests'),
    });
    expect(checkNodeVersion('v18.20.4')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('Node 24'),
    });
  });

  it('wants about 15 GB for data and checkpoints', () => {
    expect(checkDisk('/data', 80e9)).toMatchObject({ status: 'pass', detail: '80.0 GB free in /data' });
    expect(checkDisk('/data', 8e9)).toMatchObject({
      status: 'warn',
      fix: expect.stringContaining('--keep-epochs'),
    });
    expect(checkDisk('/data', 1e9).status).toBe('fail');
  });
});
