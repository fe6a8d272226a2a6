import { access, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { readInt8Guard } from '@food/core/checkpoint/int8-guard';
import { saveCheckpoint } from '@food/core/checkpoint/save-checkpoint';
import { resolveEngine } from '@food/core/engine/resolve-engine';
import { DEFAULT_PREPROCESS } from '@food/core/preprocess/config';
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { register } from '../../src/commands/export.ts';
import { exportGuardedInt8 } from '../../src/export/export-guarded-int8.ts';
import { exportCheckpointToOnnx } from '../../src/export/export-onnx.ts';
import { createPreparedSynth, type PreparedSynth } from '../fixtures/prepared-synth.ts';
import { tinyCheckpointParts, tinyResNet } from './tiny-model.ts';

const PREPROCESS = { ...DEFAULT_PREPROCESS, resizeShorterSide: 36, cropSize: 32 };

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

/** A tiny checkpoint whose head's bias makes `favoured` every image's top-1, whatever the photo. */
async function writeBiasedCheckpoint(dir: string, classes: string[], favoured: number): Promise<void> {
  const model = tinyResNet({ seed: 1, numClasses: classes.length });
  const head = model.layers[model.layers.length - 1]!;
  const [kernel, bias] = head.getWeights();
  tf.tidy(() => {
    const values = new Float32Array(bias!.shape[0]!);
    values[favoured] = 50;
    head.setWeights([kernel!, tf.tensor1d(values)]);
  });
  await saveCheckpoint(dir, { model, preprocess: PREPROCESS, labels: { classes }, ...tinyCheckpointParts() });
  model.dispose();
}

let synth: PreparedSynth;
let runDir: string;

beforeAll(async () => {
  await initBackend('wasm', () => {});
  synth = await createPreparedSynth({ classes: 4, imagesPerClass: 12 });
  const { classes } = JSON.parse(await readFile(path.join(synth.prepared, 'manifest.json'), 'utf8'));
  runDir = path.join(synth.root, 'run');
  await writeBiasedCheckpoint(path.join(runDir, 'best'), classes, 0);
  await writeBiasedCheckpoint(path.join(runDir, 'other'), classes, 1);
}, 60_000);

afterAll(async () => {
  if (synth) await rm(synth.root, { recursive: true, force: true });
});

describe('exportGuardedInt8', () => {
  it('refuses an int8 export that disagrees with the float32 one: removes it and records why', async () => {
    const best = path.join(runDir, 'best');
    // The reference predicts class 1 everywhere, best (and so its int8 export) class 0: no agreement.
    const reference = await exportCheckpointToOnnx({
      checkpoint: path.join(runDir, 'other'),
      out: path.join(runDir, 'other.onnx'),
    });
    await exportCheckpointToOnnx({ checkpoint: best, out: `${best}.onnx` });
    const result = await exportGuardedInt8({
      checkpoint: best,
      float32: reference.out,
      out: `${best}.int8.onnx`,
      calibration: { prepared: synth.prepared, images: 8 },
    });
    expect(result.kept).toBe(false);
    expect(result.record.figures).toMatchObject({ agreement: 0 });
    expect(result.record.reason).toMatch(/agrees with float32's top-1 on 0\.00 % of images/);
    expect(await readInt8Guard(`${best}.int8.guard.json`)).toEqual(result.record);
    expect(await exists(`${best}.int8.onnx`)).toBe(false);
    expect(await exists(`${best}.int8.onnx.unchecked`)).toBe(false);
    // --engine auto then serves float32.
    expect(await resolveEngine('auto', best)).toMatchObject({
      onnxModel: `${best}.onnx`,
      precision: 'float32',
    });
  });

  it('keeps int8 against its own float32 export, and --engine auto serves it', async () => {
    const best = path.join(runDir, 'best');
    const result = await exportGuardedInt8({
      checkpoint: best,
      float32: `${best}.onnx`,
      out: `${best}.int8.onnx`,
      calibration: { prepared: synth.prepared, images: 8 },
    });
    expect(result.record).toMatchObject({ decision: 'kept', figures: { agreement: 1 } });
    expect(await resolveEngine('auto', best)).toMatchObject({
      onnxModel: `${best}.int8.onnx`,
      precision: 'int8',
    });
  });

  it('with force keeps int8 unchecked and records that the guard was skipped', async () => {
    const best = path.join(runDir, 'best');
    const result = await exportGuardedInt8({
      checkpoint: best,
      float32: path.join(runDir, 'other.onnx'),
      out: `${best}.int8.onnx`,
      calibration: { prepared: synth.prepared, images: 8 },
      force: true,
    });
    expect(result.kept).toBe(true);
    expect(result.record).toMatchObject({ decision: 'forced', figures: null });
    expect(await exists(`${best}.int8.onnx`)).toBe(true);
  });
});

/** Runs `pnpm trainer export ARGS` in-process: what it printed, and what it threw. */
async function runExport(args: string[]): Promise<{ output: string; error: unknown }> {
  const program = new Command('food-trainer').exitOverride();
  register(program);
  let output = '';
  const capture = (text: string | Uint8Array) => {
    output += String(text);
    return true;
  };
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    await program.parseAsync(['export', ...args], { from: 'user' });
    return { output, error: undefined };
  } catch (error) {
    return { output, error };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

describe('pnpm trainer export --quantize int8', () => {
  it('runs the guard, prints its figures and writes the record beside the int8 file', async () => {
    const best = path.join(runDir, 'best');
    await rm(`${best}.int8.onnx`, { force: true });
    await rm(`${best}.int8.guard.json`, { force: true });
    const { output, error } = await runExport(
      ['--checkpoint', best, '--quantize', 'int8', '--calibration', synth.prepared].concat([
        '--calibration-images',
        '8',
        '--threads',
        '1',
        '--no-progress',
      ]),
    );
    expect(error).toBeUndefined();
    expect(output).toMatch(
      /int8 guard kept .*best\.int8\.onnx: int8 top-1 .* agreement 100\.00 %, on \d+ validation images/,
    );
    expect(output).toMatch(/wrote .*best\.int8\.onnx: .* int8 QDQ/);
    expect(process.exitCode ?? 0).toBe(0);
    expect(await readInt8Guard(`${best}.int8.guard.json`)).toMatchObject({ decision: 'kept' });
  });

  it('refuses --force without --quantize int8, saying what to do', async () => {
    const { error } = await runExport(['--checkpoint', path.join(runDir, 'best'), '--force']);
    expect(String(error)).toMatch(/--force skips the int8 guard, so it needs --quantize int8/);
  });
});
