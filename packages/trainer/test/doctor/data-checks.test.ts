import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPreparedData, checkWeights } from '../../src/doctor/data-checks.ts';
import { checkTensorflowBinding } from '../../src/doctor/install-checks.ts';

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

  it('names both ways to get the tensorflow binding', () => {
    const missing = checkTensorflowBinding({ state: 'missing', root: '/x' });
    expect(missing.status).toBe('fail');
    expect(missing.fix).toMatch(
      /pnpm rebuild @tensorflow\/tfjs-node-gpu.*pnpm setup:tensorflow.*docker\/train\.Dockerfile/,
    );
  });
});
