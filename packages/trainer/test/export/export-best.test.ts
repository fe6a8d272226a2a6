import { access, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { readInt8Guard } from '@food/core/checkpoint/int8-guard';
import { defaultOnnxPath, int8GuardPath, runPaths } from '@food/core/checkpoint/run-layout';
import { saveCheckpoint } from '@food/core/checkpoint/save-checkpoint';
import { resolveEngine } from '@food/core/engine/resolve-engine';
import { DEFAULT_PREPROCESS } from '@food/core/preprocess/config';
import { beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/data/prepared-set.ts';
import { runSplit } from '../../src/data/run-split.ts';
import { exportBest } from '../../src/export/export-best.ts';
import { exportCheckpointToOnnx } from '../../src/export/export-onnx.ts';
import { runTraining } from '../../src/train/run-training.ts';
import { tempDir } from '../data/temp-dir.ts';
import { tinyTrainConfig, usePreparedSynth } from '../fixtures/prepared-synth.ts';
import { tinyCheckpointParts, tinyResNet } from './tiny-model.ts';

const PREPROCESS = { ...DEFAULT_PREPROCESS, resizeShorterSide: 36, cropSize: 32 };
const LABELS = { classes: ['a', 'b', 'c', 'd', 'e'] };

async function writeCheckpoint(dir: string, seed: number): Promise<void> {
  const model = tinyResNet({ seed });
  await saveCheckpoint(dir, { model, preprocess: PREPROCESS, labels: LABELS, ...tinyCheckpointParts() });
  model.dispose();
}

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

let runDir: string;

beforeAll(async () => {
  await initBackend('wasm', () => {});
  runDir = path.join(await tempDir('export-best'), 'run');
  await writeCheckpoint(path.join(runDir, 'best'), 1);
  await writeCheckpoint(path.join(runDir, 'epoch-001'), 2);
});

describe('exportBest', () => {
  it('writes best.onnx, which --engine auto then serves, and removes a stale int8 export', async () => {
    const best = path.join(runDir, 'best');
    // An int8 file from an earlier best (other weights) would make auto refuse to start.
    await exportCheckpointToOnnx({ checkpoint: path.join(runDir, 'epoch-001'), out: `${best}.int8.onnx` });
    await writeFile(`${best}.int8.guard.json`, '{}');
    const lines: string[] = [];
    const written = await exportBest({
      runDir,
      kind: 'float32',
      prepared: 'unused',
      log: (line) => lines.push(line),
    });
    expect(written).toEqual([`${best}.onnx`]);
    expect(await exists(`${best}.int8.onnx`)).toBe(false);
    expect(await exists(`${best}.int8.guard.json`)).toBe(false);
    expect(lines.join('\n')).toMatch(/removed .*best\.int8\.onnx: it was exported from an earlier best/);
    expect(await resolveEngine('auto', best)).toMatchObject({ engine: 'onnx', onnxModel: `${best}.onnx` });
  });

  it('writes nothing with none', async () => {
    expect(await exportBest({ runDir, kind: 'none', prepared: 'unused', log: () => {} })).toEqual([]);
  });
});

describe('exportBest after a pnpm train --val-fraction run', () => {
  const synth = usePreparedSynth({ classes: 3, imagesPerClass: 10 });

  it("checks int8 on the run's own validation split, not the prepared folder's", async () => {
    const config = tinyTrainConfig(synth(), 'redrawn', {
      epochs: 1,
      augment: false,
      valFraction: 0.5,
      seed: 3,
    });
    await runTraining(config, { log: () => {}, shouldStop: () => false, progress: false });
    await exportBest({ runDir: config.out, kind: 'int8', prepared: synth().prepared, log: () => {} });
    const manifest = await readManifest(synth().prepared);
    const ownVal = runSplit(manifest, config).val.length;
    expect(ownVal).not.toBe(manifest.splits.val.length);
    const record = await readInt8Guard(int8GuardPath(defaultOnnxPath(runPaths(config.out).best, 'int8')));
    expect(record?.figures?.images).toBe(ownVal);
  }, 120_000);
});
