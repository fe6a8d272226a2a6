import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/checkpoint/checkpoint-error.ts';
import { computeChecksums, hashFile } from '../../src/checkpoint/checksums.ts';
import { type CheckpointFileSystem, nodeFileSystem } from '../../src/checkpoint/file-system.ts';
import {
  loadCheckpoint,
  readCheckpointMetadata,
  verifyCheckpoint,
} from '../../src/checkpoint/load-checkpoint.ts';
import { type CheckpointContents, saveCheckpoint } from '../../src/checkpoint/save-checkpoint.ts';
import { newTrainingProgress } from '../../src/checkpoint/training-state.ts';
import { updateLink } from '../../src/checkpoint/update-link.ts';
import { UserError } from '../../src/errors.ts';
import {
  predictLogits,
  randomInputs,
  TINY_PREPROCESS,
  tinyEpochMetrics,
  tinyModel,
  tinyRunConfig,
} from './tiny-model.ts';

const CLASSES = ['apple_pie', 'baklava', 'churros', 'donuts', 'ramen'];
const inputs = randomInputs(3, 7);
let root: string;
let models: tf.LayersModel[] = [];

function contents(seed: number, epoch: number): CheckpointContents {
  const model = tinyModel(seed);
  models.push(model);
  return {
    model,
    preprocess: TINY_PREPROCESS,
    labels: { classes: CLASSES },
    runConfig: tinyRunConfig(seed),
    metrics: tinyEpochMetrics(epoch),
  };
}

async function folderHashes(dir: string): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort())
    hashes[name] = (await hashFile(path.join(dir, name))).sha256;
  return hashes;
}

/** Rewrites checksums.json after an edit, to test checks that come after the checksum check. */
async function resealChecksums(dir: string): Promise<void> {
  const names = (await readdir(dir)).filter((name) => name !== 'checksums.json');
  await writeFile(path.join(dir, 'checksums.json'), JSON.stringify(await computeChecksums(dir, names)));
}

async function expectCheckpointError(promise: Promise<unknown>, code: string, ...patterns: RegExp[]) {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(CheckpointError);
  expect(error).toBeInstanceOf(UserError);
  expect((error as CheckpointError).code).toBe(code);
  for (const pattern of patterns) expect((error as Error).message).toMatch(pattern);
  return error as CheckpointError;
}

/** A pid that belonged to a process that has exited: a leftover of a crashed trainer. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(path.join(tmpdir(), 'checkpoint-test-'));
});

afterEach(() => {
  for (const model of models) model.dispose();
  models = [];
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('saveCheckpoint / loadCheckpoint', () => {
  it('round-trips weights, BatchNorm statistics, predictions and metadata', async () => {
    const dir = path.join(root, 'round-trip', 'epoch-001');
    const saved = contents(1, 1);
    await saveCheckpoint(dir, saved);

    expect(await readdir(path.dirname(dir))).toEqual(['epoch-001']);
    expect((await readdir(dir)).sort()).toEqual([
      'checksums.json',
      'labels.json',
      'metrics.json',
      'model.json',
      'preprocess.json',
      'run-config.json',
      'weights.bin',
    ]);

    const loaded = await loadCheckpoint(dir);
    models.push(loaded.model);
    // tfjs suffixes variable names already in use in this process (`_1`); layer names are kept.
    expect(loaded.model.layers.map((l) => l.name)).toEqual(saved.model.layers.map((l) => l.name));
    const before = saved.model.getWeights().map((w) => w.dataSync());
    const after = loaded.model.getWeights().map((w) => w.dataSync());
    expect(after).toEqual(before);
    expect(predictLogits(loaded.model, inputs)).toEqual(predictLogits(saved.model, inputs));

    expect(loaded.labels).toEqual({ classes: CLASSES });
    expect(loaded.preprocess).toEqual(TINY_PREPROCESS);
    expect(loaded.runConfig).toEqual(saved.runConfig);
    expect(loaded.metrics).toEqual(saved.metrics);
    expect(loaded.trainingState).toBeUndefined();
    expect(loaded.parameters).toBe(saved.model.countParams());
    const files = await readdir(dir);
    const total = (await Promise.all(files.map((f) => stat(path.join(dir, f))))).reduce(
      (s, f) => s + f.size,
      0,
    );
    expect(loaded.sizeBytes).toBe(total);

    // Saving a loaded model (resume) keeps the original weight names, not the `_1` variables.
    const again = path.join(root, 'round-trip', 'epoch-002');
    await saveCheckpoint(again, { ...saved, model: loaded.model });
    const weightNames = async (folder: string) =>
      JSON.parse(await readFile(path.join(folder, 'model.json'), 'utf8')).weightsManifest[0].weights.map(
        (weight: { name: string }) => weight.name,
      );
    expect(await weightNames(again)).toEqual(await weightNames(dir));
    expect(await weightNames(dir)).toContain('conv1_bn/moving_variance');

    const metadata = await readCheckpointMetadata(dir);
    expect(metadata.parameters).toBe(loaded.parameters);
    expect(metadata.sizeBytes).toBe(total);
    expect(metadata.hasTrainingState).toBe(false);
    expect(metadata.files['weights.bin'].sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('round-trips the training state (progress, optimizer step, named tensors)', async () => {
    const dir = path.join(root, 'state', 'epoch-003');
    const tensors = {
      'conv1_conv/kernel/m': tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 11),
      'predictions/bias/v': tf.randomUniform([5], 0, 1, 'float32', 12),
      step: tf.scalar(1234, 'int32'),
    };
    const progress = {
      ...newTrainingProgress(),
      epoch: 3,
      globalStep: 1234,
      bestValTop1: 0.5,
      bestEpoch: 2,
    };
    await saveCheckpoint(dir, {
      ...contents(2, 3),
      trainingState: { progress, optimizerStep: 1234, moments: tensors },
    });

    const loaded = await loadCheckpoint(dir, { withTrainingState: true });
    models.push(loaded.model);
    const state = loaded.trainingState!;
    expect(state.progress).toEqual(progress);
    expect(state.optimizerStep).toBe(1234);
    expect(Object.keys(state.moments).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, tensor] of Object.entries(tensors)) {
      expect(state.moments[name].dtype).toBe(tensor.dtype);
      expect(state.moments[name].shape).toEqual(tensor.shape);
      expect(state.moments[name].dataSync()).toEqual(tensor.dataSync());
    }
    tf.dispose([tensors, state.moments]);
    expect((await readCheckpointMetadata(dir)).hasTrainingState).toBe(true);

    const withoutState = await loadCheckpoint(dir);
    models.push(withoutState.model);
    expect(withoutState.trainingState).toBeUndefined();
  });

  it('refuses --resume from a checkpoint without training state', async () => {
    const dir = path.join(root, 'no-state', 'best');
    await saveCheckpoint(dir, contents(3, 1));
    await expectCheckpointError(
      loadCheckpoint(dir, { withTrainingState: true }),
      'CHECKPOINT_MISSING',
      /training-state\.json/,
      /epoch-NNN/,
    );
  });

  it('names a missing folder', async () => {
    await expectCheckpointError(
      loadCheckpoint(path.join(root, 'nope')),
      'CHECKPOINT_MISSING',
      /does not exist/,
    );
  });

  it('does not leak tensors across save and load', async () => {
    const dir = path.join(root, 'leaks', 'epoch-001');
    const saved = contents(4, 1);
    await saveCheckpoint(dir, saved);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      await saveCheckpoint(dir, saved);
      (await loadCheckpoint(dir)).model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('corrupt checkpoints', () => {
  async function freshCheckpoint(name: string): Promise<string> {
    const dir = path.join(root, 'corrupt', name);
    await saveCheckpoint(dir, contents(5, 1));
    return dir;
  }

  it('names a truncated weights.bin', async () => {
    const dir = await freshCheckpoint('truncated');
    const file = path.join(dir, 'weights.bin');
    await truncate(file, (await stat(file)).size - 10);
    await expectCheckpointError(
      loadCheckpoint(dir),
      'CHECKPOINT_CORRUPT',
      /weights\.bin is truncated/,
      /the checkpoint is corrupt; use another epoch-NNN folder or retrain\/resume/,
    );
    // The cheap metadata read checks sizes too.
    await expectCheckpointError(readCheckpointMetadata(dir), 'CHECKPOINT_CORRUPT', /weights\.bin/);
  });

  it('hashes the weights again unless the process verified the folder already (verifyCheckpoint)', async () => {
    const dir = await freshCheckpoint('verified-once');
    expect((await verifyCheckpoint(dir)).labels.classes).toEqual(CLASSES);
    const file = path.join(dir, 'weights.bin');
    const bytes = await readFile(file);
    bytes[100] ^= 0x01;
    await writeFile(file, bytes);
    await expectCheckpointError(verifyCheckpoint(dir), 'CHECKPOINT_CORRUPT', /weights\.bin does not match/);
    await expectCheckpointError(loadCheckpoint(dir), 'CHECKPOINT_CORRUPT', /weights\.bin does not match/);
    // `verified: true` is the caller's word that it ran verifyCheckpoint in this process: no second pass.
    const trusted = await loadCheckpoint(dir, { verified: true });
    models.push(trusted.model);
    expect(trusted.labels.classes).toEqual(CLASSES);
  });

  it('names a file with a flipped byte', async () => {
    const dir = await freshCheckpoint('flipped');
    const file = path.join(dir, 'weights.bin');
    const bytes = await readFile(file);
    bytes[100] ^= 0x01;
    await writeFile(file, bytes);
    await expectCheckpointError(
      loadCheckpoint(dir),
      'CHECKPOINT_CORRUPT',
      /weights\.bin does not match its sha256/,
    );
  });

  it('names an edited labels.json in the metadata read', async () => {
    const dir = await freshCheckpoint('edited-labels');
    await writeFile(path.join(dir, 'labels.json'), JSON.stringify({ classes: ['a', 'b', 'c', 'd', 'f'] }));
    await expectCheckpointError(readCheckpointMetadata(dir), 'CHECKPOINT_CORRUPT', /labels\.json/);
  });

  it('names a missing file and an interrupted save (no checksums.json)', async () => {
    const dir = await freshCheckpoint('missing');
    await rm(path.join(dir, 'metrics.json'));
    await expectCheckpointError(loadCheckpoint(dir), 'CHECKPOINT_CORRUPT', /metrics\.json is missing/);
    await rm(path.join(dir, 'checksums.json'));
    await expectCheckpointError(loadCheckpoint(dir), 'CHECKPOINT_CORRUPT', /checksums\.json is missing/);
  });

  it('refuses labels that do not match the model output units', async () => {
    const dir = await freshCheckpoint('labels-mismatch');
    await writeFile(path.join(dir, 'labels.json'), JSON.stringify({ classes: ['a', 'b', 'c', 'd'] }));
    await resealChecksums(dir);
    const before = tf.memory().numTensors;
    await expectCheckpointError(loadCheckpoint(dir), 'CHECKPOINT_MISMATCH', /5 output units/, /4 classes/);
    expect(tf.memory().numTensors).toBe(before);

    await expectCheckpointError(
      saveCheckpoint(path.join(root, 'corrupt', 'never'), { ...contents(6, 1), labels: { classes: ['x'] } }),
      'CHECKPOINT_MISMATCH',
      /1 classes/,
    );
  });

  it('refuses a preprocess crop that does not match the model input', async () => {
    const dir = await freshCheckpoint('crop-mismatch');
    const preprocess = { ...TINY_PREPROCESS, cropSize: 224, resizeShorterSide: 256 };
    await writeFile(path.join(dir, 'preprocess.json'), JSON.stringify(preprocess));
    await resealChecksums(dir);
    await expectCheckpointError(loadCheckpoint(dir), 'CHECKPOINT_MISMATCH', /8x8x3 inputs/, /224x224x3/);
  });

  it('explains a topology that cannot be built', async () => {
    const dir = await freshCheckpoint('bad-topology');
    const modelJson = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
    modelJson.modelTopology.config.layers[1].class_name = 'NoSuchLayer';
    await writeFile(path.join(dir, 'model.json'), JSON.stringify(modelJson));
    await resealChecksums(dir);
    await expectCheckpointError(loadCheckpoint(dir), 'CHECKPOINT_MISMATCH', /model\.json/, /NoSuchLayer/);
  });
});

describe('checkpoints written before the typed contract', () => {
  async function edited(name: string, file: string, edit: (value: Record<string, unknown>) => unknown) {
    const dir = path.join(root, 'older', name);
    await saveCheckpoint(dir, contents(18, 2));
    const value = JSON.parse(await readFile(path.join(dir, file), 'utf8'));
    await writeFile(path.join(dir, file), JSON.stringify(edit(value)));
    await resealChecksums(dir);
    return dir;
  }

  it('load with the copy of the preprocessing their run-config.json carried, which is dropped', async () => {
    const dir = await edited('run-config-preprocess', 'run-config.json', (config) => ({
      ...config,
      preprocess: { ...TINY_PREPROCESS, mean: [0, 0, 0] },
    }));
    const metadata = await readCheckpointMetadata(dir);
    expect(metadata.runConfig).toEqual(tinyRunConfig(18));
    expect(metadata.preprocess).toEqual(TINY_PREPROCESS);
  });

  it('load a mid-epoch save, whose metrics.json has only the step', async () => {
    const dir = await edited('mid-epoch', 'metrics.json', () => ({ epoch: 1, stepInEpoch: 3 }));
    expect((await readCheckpointMetadata(dir)).metrics).toEqual({ epoch: 1, stepInEpoch: 3 });
  });

  it('name metrics.json when it is not one the trainer writes', async () => {
    const dir = await edited('foreign-metrics', 'metrics.json', () => ({ epoch: 2, val: { accuracy: 0.5 } }));
    await expectCheckpointError(
      readCheckpointMetadata(dir),
      'CHECKPOINT_CORRUPT',
      /metrics\.json is invalid: neither an epoch's metrics \(valTop1, \.\.\.\) nor a mid-epoch save/,
    );
  });
});

describe('atomic replacement', () => {
  /** Fails like a full disk: the weights file gets half its bytes, then ENOSPC. */
  const fullDisk: CheckpointFileSystem = {
    ...nodeFileSystem,
    async writeFile(file, data) {
      if (path.basename(file) !== 'weights.bin') return nodeFileSystem.writeFile(file, data);
      await nodeFileSystem.writeFile(file, (data as Uint8Array).subarray(0, (data as Uint8Array).length / 2));
      throw Object.assign(new Error(`ENOSPC: no space left on device, write '${file}'`), { code: 'ENOSPC' });
    },
  };

  it('keeps the previous checkpoint untouched and loadable when the disk is full', async () => {
    const dir = path.join(root, 'enospc', 'latest');
    const previous = contents(7, 1);
    await saveCheckpoint(dir, previous);
    const hashesBefore = await folderHashes(dir);

    const error = await expectCheckpointError(
      saveCheckpoint(dir, contents(8, 2), { fileSystem: fullDisk }),
      'CHECKPOINT_WRITE_FAILED',
      /no space left on device/,
      /previous checkpoint .* is intact/,
      /Free disk space/,
      /--resume/,
    );
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOSPC');

    expect(await folderHashes(dir)).toEqual(hashesBefore);
    expect(await readdir(path.dirname(dir))).toEqual(['latest']);
    const loaded = await loadCheckpoint(dir);
    models.push(loaded.model);
    expect(loaded.metrics.epoch).toBe(1);
    expect(predictLogits(loaded.model, inputs)).toEqual(predictLogits(previous.model, inputs));
  });

  it('leaves the old or the new complete checkpoint after a crash at any write step', async () => {
    const dir = path.join(root, 'crash', 'latest');
    const oldContents = contents(9, 1);
    const newContents = contents(10, 2);
    const expected = {
      1: predictLogits(oldContents.model, inputs),
      2: predictLogits(newContents.model, inputs),
    };
    const seen = new Set<number>();
    for (let crashAt = 0; ; crashAt++) {
      await rm(path.dirname(dir), { recursive: true, force: true });
      await saveCheckpoint(dir, oldContents);
      // After the crash the "process" is dead: every later operation fails, no cleanup runs.
      let operations = 0;
      const crash = () => {
        throw Object.assign(new Error('simulated crash'), { code: 'ECRASH' });
      };
      const crashing = Object.fromEntries(
        Object.entries(nodeFileSystem).map(([name, operation]) => [
          name,
          async (...args: unknown[]) => {
            if (operations++ < crashAt) return (operation as (...a: unknown[]) => Promise<void>)(...args);
            if (name === 'writeFile') {
              const [file, data] = args as [string, Uint8Array | string];
              await nodeFileSystem.writeFile(file, data.slice(0, Math.floor(data.length / 2)));
            }
            crash();
          },
        ]),
      ) as unknown as CheckpointFileSystem;
      const finished = await saveCheckpoint(dir, newContents, { fileSystem: crashing }).then(
        () => true,
        () => false,
      );

      const loaded = await loadCheckpoint(dir);
      models.push(loaded.model);
      const epoch = loaded.metrics.epoch as 1 | 2;
      seen.add(epoch);
      expect(predictLogits(loaded.model, inputs)).toEqual(expected[epoch]);
      expect(await readdir(path.dirname(dir))).toEqual(['latest']);
      if (finished) {
        expect(epoch).toBe(2);
        break;
      }
    }
    expect([...seen].sort()).toEqual([1, 2]);
  });

  it('ignores and removes leftovers of a crashed save, but not those of a live process', async () => {
    const dir = path.join(root, 'leftovers', 'epoch-002');
    const saved = contents(11, 2);
    await saveCheckpoint(dir, saved);
    const parent = path.dirname(dir);
    const stale = `.epoch-002.tmp-${deadPid()}-0badc0de`;
    const live = `.epoch-002.tmp-${process.ppid}-00c0ffee`;
    for (const name of [stale, live]) {
      await mkdir(path.join(parent, name));
      await writeFile(path.join(parent, name, 'weights.bin'), 'half a file');
    }

    const loaded = await loadCheckpoint(dir);
    models.push(loaded.model);
    expect(predictLogits(loaded.model, inputs)).toEqual(predictLogits(saved.model, inputs));
    expect((await readdir(parent)).sort()).toEqual([live, 'epoch-002']);
  });

  it('restores a checkpoint whose save crashed between the two renames', async () => {
    const parent = path.join(root, 'between-renames');
    const saved = contents(12, 4);
    await saveCheckpoint(path.join(parent, 'staging'), saved);
    const pid = deadPid();
    // The crash left the new folder as `.ready` and the previous one as `.old`; DIR is missing.
    await saveCheckpoint(path.join(parent, 'previous'), contents(13, 3));
    const { rename } = await import('node:fs/promises');
    await rename(path.join(parent, 'previous'), path.join(parent, `.latest.old-${pid}-1111aaaa`));
    await rename(path.join(parent, 'staging'), path.join(parent, `.latest.ready-${pid}-2222bbbb`));

    const loaded = await loadCheckpoint(path.join(parent, 'latest'));
    models.push(loaded.model);
    expect(loaded.metrics.epoch).toBe(4);
    expect(await readdir(parent)).toEqual(['latest']);
  });
});

describe('updateLink', () => {
  it('copies a checkpoint to best and replaces it atomically', async () => {
    const runDir = path.join(root, 'run-link');
    const first = contents(14, 1);
    const second = contents(15, 2);
    await saveCheckpoint(path.join(runDir, 'epoch-001'), first);
    await saveCheckpoint(path.join(runDir, 'epoch-002'), second);

    await updateLink(runDir, 'best', path.join(runDir, 'epoch-001'));
    expect(await folderHashes(path.join(runDir, 'best'))).toEqual(
      await folderHashes(path.join(runDir, 'epoch-001')),
    );
    await updateLink(runDir, 'best', path.join(runDir, 'epoch-002'));
    const best = await loadCheckpoint(path.join(runDir, 'best'));
    models.push(best.model);
    expect(best.metrics.epoch).toBe(2);
    expect(predictLogits(best.model, inputs)).toEqual(predictLogits(second.model, inputs));

    // Pruning the epoch folder does not break best.
    await rm(path.join(runDir, 'epoch-002'), { recursive: true });
    (await loadCheckpoint(path.join(runDir, 'best'))).model.dispose();
  });

  it('refuses a corrupt source and keeps the previous copy', async () => {
    const runDir = path.join(root, 'run-link-corrupt');
    await saveCheckpoint(path.join(runDir, 'epoch-001'), contents(16, 1));
    await saveCheckpoint(path.join(runDir, 'epoch-002'), contents(17, 2));
    await updateLink(runDir, 'latest', path.join(runDir, 'epoch-001'));
    const before = await folderHashes(path.join(runDir, 'latest'));

    const weights = path.join(runDir, 'epoch-002', 'weights.bin');
    const bytes = await readFile(weights);
    bytes[0] ^= 0xff;
    await writeFile(weights, bytes);
    await expectCheckpointError(
      updateLink(runDir, 'latest', path.join(runDir, 'epoch-002')),
      'CHECKPOINT_CORRUPT',
      /epoch-002: weights\.bin does not match/,
    );
    expect(await folderHashes(path.join(runDir, 'latest'))).toEqual(before);
    expect((await readdir(runDir)).sort()).toEqual(['epoch-001', 'epoch-002', 'latest']);
  });
});
