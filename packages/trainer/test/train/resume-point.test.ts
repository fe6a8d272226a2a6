import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { loadCheckpoint } from '@food/core/checkpoint/load-checkpoint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHistory } from '../../src/train/history.ts';
import { findResumePoint } from '../../src/train/resume-point.ts';
import type { TrainConfig } from '../../src/train/run-config.ts';
import { runTraining, type TrainingHooks } from '../../src/train/run-training.ts';
import { createPreparedSynth, type PreparedSynth, tinyTrainConfig } from '../fixtures/prepared-synth.ts';
import { maxAbsDiff, weightsOf } from '../helpers/checkpoint-weights.ts';

// What a `kill -9` can leave in a run folder, made by the real trainer and then cut back to the state the
// kill leaves: the epoch folder saved, `latest`/`best`/history not yet updated, or `latest` corrupt.
let synth: PreparedSynth;
const logs: string[] = [];
const hooks: TrainingHooks = { log: (line) => logs.push(line), shouldStop: () => false, progress: false };

function tinyConfig(out: string, overrides: Partial<TrainConfig> = {}): TrainConfig {
  return tinyTrainConfig(synth, out, { limit: 32, ...overrides });
}

let reference: Float32Array[];
let oneEpoch: string;

beforeAll(async () => {
  await initBackend('wasm', () => {});
  synth = await createPreparedSynth({ classes: 4, imagesPerClass: 12 });
  const straight = tinyConfig('straight');
  await runTraining(straight, hooks);
  reference = await weightsOf(path.join(straight.out, 'latest'));
  oneEpoch = tinyConfig('one-epoch', { epochs: 1 }).out;
  await runTraining(tinyConfig('one-epoch', { epochs: 1 }), hooks);
}, 180_000);

afterAll(async () => {
  if (synth) await rm(synth.root, { recursive: true, force: true });
});

/** A copy of the one-epoch run as a kill right after `epoch-001` was saved leaves it. */
async function killedAfterEpochSave(name: string): Promise<TrainConfig> {
  const config = tinyConfig(name);
  await cp(oneEpoch, config.out, { recursive: true });
  for (const file of ['latest', 'best', 'history.json', 'history.csv', 'curves.svg']) {
    await rm(path.join(config.out, file), { recursive: true });
  }
  return config;
}

describe('resume after a kill at any moment', () => {
  it('killed after epoch-001 was saved, before latest: --resume continues from epoch-001', async () => {
    const config = await killedAfterEpochSave('no-latest');
    expect((await findResumePoint(config.out, () => {}))?.dir).toBe(path.join(config.out, 'epoch-001'));

    const outcome = await runTraining({ ...config, resume: true }, hooks);
    expect(outcome.status).toBe('completed');
    expect(maxAbsDiff(reference, await weightsOf(path.join(config.out, 'latest')))).toBeLessThanOrEqual(1e-6);
    // The kill lost history.json's row of epoch 1 and the best copy: both are rebuilt.
    expect((await readHistory(config.out)).map((row) => row.epoch)).toEqual([1, 2]);
    expect(Object.keys((await readHistory(config.out))[0]).sort()).toEqual(
      Object.keys((await readHistory(path.join(synth.root, 'straight')))[0]).sort(),
    );
    await expect(loadCheckpoint(path.join(config.out, 'best'))).resolves.toBeDefined();
  }, 120_000);

  it('a new run into a folder that holds checkpoints is refused, and --overwrite starts over', async () => {
    const config = await killedAfterEpochSave('refuse');
    await expect(runTraining(config, hooks)).rejects.toThrow(
      /already holds a run \(epoch-001\).*--resume.*--overwrite/,
    );
    const outcome = await runTraining({ ...config, overwrite: true }, hooks);
    expect(outcome.status).toBe('completed');
    expect(maxAbsDiff(reference, await weightsOf(path.join(config.out, 'latest')))).toBeLessThanOrEqual(1e-6);
    await expect(runTraining({ ...config, overwrite: true, resume: 'auto' }, hooks)).rejects.toThrow(
      /contradict/,
    );
  }, 120_000);

  it('passes over a corrupt latest to the newest intact epoch folder', async () => {
    const config = tinyConfig('corrupt-latest');
    await cp(oneEpoch, config.out, { recursive: true });
    const weights = path.join(config.out, 'latest', 'weights.bin');
    const bytes = await readFile(weights);
    bytes[100] ^= 0xff;
    await writeFile(weights, bytes);

    logs.length = 0;
    const outcome = await runTraining({ ...config, resume: true }, hooks);
    expect(outcome.status).toBe('completed');
    expect(logs.join('\n')).toMatch(/passing over .*latest: .*weights\.bin does not match its sha256/);
    expect(logs.join('\n')).toMatch(/resuming .* from epoch-001/);
    expect(maxAbsDiff(reference, await weightsOf(path.join(config.out, 'latest')))).toBeLessThanOrEqual(1e-6);
  }, 120_000);

  it('--resume auto starts an empty --out, and says a finished run is complete', async () => {
    const config = tinyConfig('auto', { resume: 'auto' });
    logs.length = 0;
    const first = await runTraining(config, hooks);
    expect(first.status).toBe('completed');
    expect(logs.join('\n')).toMatch(/holds no checkpoint; starting the run/);
    expect(maxAbsDiff(reference, await weightsOf(path.join(config.out, 'latest')))).toBeLessThanOrEqual(1e-6);

    const again = await runTraining(config, hooks);
    expect(again).toMatchObject({ status: 'already-complete', epochsCompleted: 2 });
    expect(again.history.map((row) => row.epoch)).toEqual([1, 2]);
    expect((await readdir(config.out)).filter((name) => name.startsWith('epoch-'))).toEqual([
      'epoch-001',
      'epoch-002',
    ]);
  }, 120_000);

  it('plain --resume on an empty --out says there is nothing to resume', async () => {
    await expect(runTraining(tinyConfig('empty', { resume: true }), hooks)).rejects.toThrow(
      /nothing to resume: .* holds no checkpoint.*--resume auto/,
    );
  });
});
