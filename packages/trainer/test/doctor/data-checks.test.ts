import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPreparedData, checkWeights } from '../../src/doctor/data-checks.ts';
import { checkLibtensorflow } from '../../src/doctor/install-checks.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'doctor-data-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('data and binding checks', () => {
  it('finds a prepared set, says when its statistics are missing, and says how to make one', async () => {
    const prepared = path.join(root, 'prepared');
    expect(checkPreparedData(undefined, prepared)).toMatchObject({
      status: 'warn',
      fix: expect.stringContaining('prepare'),
    });
    await mkdir(path.join(prepared, 'food10'), { recursive: true });
    await writeFile(path.join(prepared, 'food10', 'manifest.json'), '{}');
    expect(checkPreparedData(undefined, prepared)).toMatchObject({
      status: 'warn',
      fix: `Run \`pnpm trainer stats --prepared ${path.join(prepared, 'food10')}\``,
    });
    await writeFile(path.join(prepared, 'food10', 'preprocess.json'), '{}');
    expect(checkPreparedData(undefined, prepared).status).toBe('pass');
  });

  it('checks the imported weights folder', async () => {
    expect(checkWeights(path.join(root, 'weights'))).toMatchObject({
      status: 'warn',
      fix: expect.stringContaining('import-weights'),
    });
    await mkdir(path.join(root, 'weights'));
    await writeFile(path.join(root, 'weights', 'weights_manifest.json'), '[]');
    expect(checkWeights(path.join(root, 'weights')).status).toBe('pass');
  });

  it('libtensorflow: the CPU package is the ready CPU path, unless --gpu; each fix names its command', () => {
    const gpu = { specifier: '@tensorflow/tfjs-node-gpu', state: 'missing', root: '/g' } as const;
    const cpu = { specifier: '@tensorflow/tfjs-node', state: 'present', root: '/c' } as const;
    const cpuWheel = 'tensorflow_cpu-2.21.0-cp310-cp310-manylinux_2_27_x86_64.whl';
    expect(checkLibtensorflow(gpu, cpu, { cpuWheel }, false)).toMatchObject({
      status: 'pass',
      detail: expect.stringContaining(`tfjs-node runs ${cpuWheel} on the CPU`),
    });
    expect(checkLibtensorflow(gpu, cpu, { cpuWheel }, true)).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('pnpm setup:tensorflow --gpu'),
    });
    const none = checkLibtensorflow(gpu, { ...cpu, state: 'missing' }, {}, false);
    expect(none.status).toBe('fail');
    expect(none.fix).toMatch(
      /pnpm setup:tensorflow`.*pnpm setup:tensorflow --gpu.*docker\/train\.Dockerfile/,
    );
    // tfjs-node-gpu's own install (libtensorflow 2.9.1, CUDA 11.2) has no CUDA stack recorded.
    expect(checkLibtensorflow({ ...gpu, state: 'present' }, cpu, {}, false)).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('2.9.1'),
      fix: expect.stringContaining('pnpm setup:tensorflow --gpu'),
    });
  });
});
