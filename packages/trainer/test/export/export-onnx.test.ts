import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { defaultOnnxPath } from '@food/core/checkpoint/run-layout';
import { saveCheckpoint } from '@food/core/checkpoint/save-checkpoint';
import { loadEngine } from '@food/core/engine/create-engine';
import { OnnxModelError, readOnnxMetadata } from '@food/core/engine/onnx-metadata';
import { DEFAULT_PREPROCESS, type PreprocessConfig } from '@food/core/preprocess/config';
import { Command } from 'commander';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { register } from '../../src/commands/export.ts';
import { exportCheckpointToOnnx } from '../../src/export/export-onnx.ts';
import { tempDir } from '../data/temp-dir.ts';
import { syntheticImages, tinyCheckpointParts, tinyResNet } from './tiny-model.ts';

const PREPROCESS: PreprocessConfig = { ...DEFAULT_PREPROCESS, resizeShorterSide: 36, cropSize: 32 };
const LABELS = { classes: ['a', 'b', 'c', 'd', 'e'] };

let root: string;
let checkpoint: string;
let otherCheckpoint: string;

async function writeCheckpoint(dir: string, seed: number): Promise<void> {
  const model = tinyResNet({ seed });
  await saveCheckpoint(dir, { model, preprocess: PREPROCESS, labels: LABELS, ...tinyCheckpointParts() });
  model.dispose();
}

beforeAll(async () => {
  await initBackend('wasm', () => {});
  root = await tempDir('export');
  checkpoint = path.join(root, 'run', 'best');
  otherCheckpoint = path.join(root, 'run', 'epoch-002');
  await writeCheckpoint(checkpoint, 1);
  await writeCheckpoint(otherCheckpoint, 2);
});

describe('exportCheckpointToOnnx + loadEngine', () => {
  it('gives the same probabilities through --engine onnx as through --engine tfjs', async () => {
    const result = await exportCheckpointToOnnx({ checkpoint, out: defaultOnnxPath(checkpoint) });
    expect(result.out).toBe(`${checkpoint}.onnx`);
    const metadata = await readOnnxMetadata(result.out);
    expect(metadata.preprocess).toEqual(PREPROCESS);
    expect(metadata.labels).toEqual(LABELS);
    expect(metadata.source?.weightsSha256).toMatch(/^[0-9a-f]{64}$/);

    const onnx = await loadEngine({ engine: 'onnx', checkpoint, intraOpThreads: 1 });
    const tfjs = await loadEngine({ engine: 'tfjs', checkpoint });
    expect(onnx.engine.description).toContain('onnxruntime');
    expect(onnx.labels).toEqual(tfjs.labels);
    const images = syntheticImages(3, 32);
    const [a, b] = [await onnx.engine.predict(images), await tfjs.engine.predict(images)];
    for (const [i, row] of a.entries()) {
      for (const [j, value] of row.entries()) expect(Math.abs(value - b[i]![j]!)).toBeLessThan(1e-4);
    }
    onnx.engine.dispose();
    tfjs.engine.dispose();
  });

  it('refuses an .onnx file exported from other weights', async () => {
    const file = path.join(root, 'other.onnx');
    await exportCheckpointToOnnx({ checkpoint: otherCheckpoint, out: file });
    await expect(loadEngine({ engine: 'onnx', checkpoint, onnxModel: file })).rejects.toThrow(OnnxModelError);
    await expect(loadEngine({ engine: 'onnx', checkpoint, onnxModel: file })).rejects.toThrow(
      /exported from other weights.*pnpm trainer export/,
    );
  });

  it('needs calibration images for --quantize int8', async () => {
    await expect(
      exportCheckpointToOnnx({ checkpoint, out: path.join(root, 'q.onnx'), quantize: 'int8' }),
    ).rejects.toThrow(/--calibration/);
  });
});

describe('pnpm trainer export', () => {
  async function run(...args: string[]) {
    const program = new Command('food-trainer').exitOverride();
    register(program);
    let stderr = '';
    let stdout = '';
    for (const command of program.commands) {
      command.exitOverride().configureOutput({
        writeErr: (text) => {
          stderr += text;
        },
        writeOut: (text) => {
          stdout += text;
        },
      });
    }
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((text) => {
      stdout += String(text);
      return true;
    });
    try {
      await program.parseAsync(args, { from: 'user' });
      return { stdout, stderr, error: undefined };
    } catch (error) {
      return { stdout, stderr, error };
    } finally {
      write.mockRestore();
    }
  }

  it('writes the file named by --out and reports it', async () => {
    const out = path.join(root, 'cli', 'model.onnx');
    const { stdout, error } = await run(
      'export',
      '--checkpoint',
      checkpoint,
      '--format',
      'onnx',
      '--out',
      out,
    );
    expect(error).toBeUndefined();
    expect(stdout).toMatch(/wrote .*model\.onnx: .* MB, \d+ nodes, float32/);
    expect((await readFile(out)).length).toBeGreaterThan(1000);
    await rm(out);
  });

  it('rejects an unknown format or quantisation and has examples in --help', async () => {
    expect((await run('export', '--checkpoint', checkpoint, '--format', 'tflite')).stderr).toMatch(
      /Allowed choices are onnx/,
    );
    expect((await run('export', '--checkpoint', checkpoint, '--quantize', 'int4')).stderr).toMatch(
      /Allowed choices are int8/,
    );
    expect((await run('export', '--help')).stdout).toContain('$ pnpm trainer export --checkpoint');
  });
});
