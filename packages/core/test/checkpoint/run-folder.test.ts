import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, readCheckpointMetadata } from '../../src/checkpoint/load-checkpoint.ts';
import { resolveRunFolder } from '../../src/checkpoint/run-folder.ts';
import { saveCheckpoint } from '../../src/checkpoint/save-checkpoint.ts';
import { updateLink } from '../../src/checkpoint/update-link.ts';
import { TINY_PREPROCESS, tinyEpochMetrics, tinyModel, tinyRunConfig } from './tiny-model.ts';

let run: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  run = path.join(await mkdtemp(path.join(tmpdir(), 'run-folder-')), 'demo');
  const model = tinyModel(1, 2);
  await saveCheckpoint(path.join(run, 'epoch-001'), {
    model,
    preprocess: TINY_PREPROCESS,
    labels: { classes: ['apple_pie', 'baklava'] },
    runConfig: tinyRunConfig(),
    metrics: tinyEpochMetrics(1),
  });
  model.dispose();
  await updateLink(run, 'best', path.join(run, 'epoch-001'));
});

afterAll(async () => {
  await rm(path.dirname(run), { recursive: true, force: true });
});

describe('--checkpoint given a training run folder', () => {
  it('loading it says which checkpoint was meant instead of "checksums.json is missing"', async () => {
    const didYouMean = new RegExp(
      `${run} is a training run folder, not a checkpoint: did you mean ${run}/best`,
    );
    await expect(loadCheckpoint(run)).rejects.toThrow(didYouMean);
    await expect(readCheckpointMetadata(run)).rejects.toThrow(didYouMean);
  });

  it('resolveRunFolder uses its best and says so; a checkpoint folder is left alone', async () => {
    expect(await resolveRunFolder(run)).toEqual({
      dir: path.join(run, 'best'),
      note: `${run} is a training run folder: using its best checkpoint, ${path.join(run, 'best')}`,
    });
    expect(await resolveRunFolder(path.join(run, 'epoch-001'))).toEqual({ dir: path.join(run, 'epoch-001') });
  });
});

describe('--checkpoint given a folder that is not a checkpoint', () => {
  it('an evaluation report is named as one, not as a corrupt checkpoint', async () => {
    const report = path.join(path.dirname(run), 'reports', 'demo-test');
    await mkdir(report, { recursive: true });
    await writeFile(path.join(report, 'metrics.json'), '{"split":"test"}\n');
    await writeFile(path.join(report, 'report.html'), '<!doctype html>\n');
    const error = await loadCheckpoint(report).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'CHECKPOINT_MISSING',
      message: `${report} is not a checkpoint: it is an evaluation report (pnpm evaluate --out). Pass a checkpoint folder that pnpm train wrote, such as checkpoints/RUN/best or checkpoints/RUN/epoch-003 (pnpm runs lists the runs).`,
    });
    await expect(readCheckpointMetadata(report)).rejects.toThrow(
      /is not a checkpoint: it is an evaluation report/,
    );
  });

  it('any other folder without checksums.json or model.json is not a checkpoint either', async () => {
    const other = path.join(path.dirname(run), 'photos');
    await mkdir(other, { recursive: true });
    await expect(readCheckpointMetadata(other)).rejects.toThrow(
      `${other} is not a checkpoint: it has no checksums.json or model.json.`,
    );
  });
});
