import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { resolveRunConfig } from '@food/core/checkpoint/run-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOutputFolder } from '../../src/train/check-output.ts';
import { runTraining } from '../../src/train/run-training.ts';
import { usePreparedSynth } from '../fixtures/prepared-synth.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'check-output-'));
  await writeFile(path.join(root, 'a-file'), 'not a folder');
});
afterAll(async () => {
  await chmod(path.join(root, 'read-only'), 0o755).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

describe('checkOutputFolder', () => {
  it('creates a writable --out and leaves nothing in it', async () => {
    await checkOutputFolder(path.join(root, 'runs', 'new'), 1000);
    expect(await readdir(path.join(root, 'runs', 'new'))).toEqual([]);
  });

  it('refuses an --out below a regular file, or that is one', async () => {
    await expect(checkOutputFolder(path.join(root, 'a-file', 'run'), 1000)).rejects.toThrow(
      /cannot write checkpoints to --out .*a-file\/run: a part of the path is a file, not a folder/,
    );
    await expect(checkOutputFolder(path.join(root, 'a-file'), 1000)).rejects.toThrow(
      /is a file, not a folder/,
    );
  });

  // root writes to read-only folders anyway, so this case runs only as an ordinary user.
  it.skipIf(process.getuid?.() === 0)('refuses a read-only --out', async () => {
    const readOnly = path.join(root, 'read-only');
    await mkdir(readOnly);
    await chmod(readOnly, 0o555);
    await expect(checkOutputFolder(path.join(readOnly, 'run'), 1000)).rejects.toThrow(/permission denied/);
  });

  it('refuses a disk without room for one checkpoint', async () => {
    await expect(checkOutputFolder(path.join(root, 'big'), 1e18)).rejects.toThrow(
      /MB free, but one checkpoint of this model needs about 1,000,000,000,000 MB/,
    );
  });
});

describe('runTraining checks --out before the first step', () => {
  beforeAll(async () => {
    await initBackend('wasm', () => {});
  });
  const synth = usePreparedSynth({ classes: 2, imagesPerClass: 8 });

  it('an --out below a regular file fails before any epoch is trained', async () => {
    const logs: string[] = [];
    const run = runTraining(
      resolveRunConfig({
        blocksPerStage: [1, 1, 1, 1],
        widthMultiplier: 1 / 16,
        prepared: synth().prepared,
        out: path.join(root, 'a-file', 'run'),
        epochs: 1,
        batchSize: 4,
        imageSize: 32,
        weights: 'none',
        backend: 'wasm',
      }),
      { log: (line) => logs.push(line), shouldStop: () => false, progress: false },
    );
    await expect(run).rejects.toThrow(/cannot write checkpoints to --out/);
    expect(logs.filter((line) => /^epoch \d/.test(line))).toEqual([]);
  });
});
