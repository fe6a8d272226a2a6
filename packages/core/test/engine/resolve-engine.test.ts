import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpointMetadata } from '../../src/checkpoint/load-checkpoint.ts';
import { saveCheckpoint } from '../../src/checkpoint/save-checkpoint.ts';
import { encodeOnnxMetadata, type OnnxModelMetadata } from '../../src/engine/onnx-metadata.ts';
import { resolveEngine } from '../../src/engine/resolve-engine.ts';
import { TINY_PREPROCESS, tinyEpochMetrics, tinyModel, tinyRunConfig } from '../checkpoint/tiny-model.ts';

const LABELS = { classes: ['a', 'b', 'c', 'd', 'e'] };

let root: string;
let checkpoint: string;
let weightsSha256: string;

/** An .onnx file holding only the exporter's metadata: all that resolveEngine reads. */
async function writeExport(file: string, metadata: Partial<OnnxModelMetadata>): Promise<void> {
  const props = encodeOnnxMetadata({ preprocess: TINY_PREPROCESS, labels: LABELS, ...metadata });
  const model = onnxProto.onnx.ModelProto.create({
    irVersion: 8,
    metadataProps: Object.entries(props).map(([key, value]) => ({ key, value })),
  });
  await writeFile(file, onnxProto.onnx.ModelProto.encode(model).finish());
}

const source = () => ({ checkpoint, weightsSha256 });
const int8 = {
  format: 'int8-qdq' as const,
  calibration: { source: 'data/prepared/x', images: 8, method: 'minmax' },
};

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(path.join(tmpdir(), 'resolve-engine-'));
  checkpoint = path.join(root, 'run', 'best');
  const model = tinyModel(1);
  await saveCheckpoint(checkpoint, {
    model,
    preprocess: TINY_PREPROCESS,
    labels: LABELS,
    runConfig: tinyRunConfig(),
    metrics: tinyEpochMetrics(1),
  });
  model.dispose();
  weightsSha256 = (await readCheckpointMetadata(checkpoint)).files['weights.bin']!.sha256;
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function clearExports(): Promise<void> {
  await rm(`${checkpoint}.onnx`, { force: true });
  await rm(`${checkpoint}.int8.onnx`, { force: true });
}

describe('resolveEngine auto', () => {
  it('runs tfjs when no export is beside the checkpoint, and says how to make one', async () => {
    await clearExports();
    const resolved = await resolveEngine('auto', checkpoint);
    expect(resolved.engine).toBe('tfjs');
    expect(resolved.reason).toMatch(/pnpm trainer export --checkpoint/);
  });

  it('takes the float32 export of this checkpoint', async () => {
    await clearExports();
    await writeExport(`${checkpoint}.onnx`, { source: source() });
    expect(await resolveEngine('auto', checkpoint)).toMatchObject({
      engine: 'onnx',
      onnxModel: `${checkpoint}.onnx`,
      precision: 'float32',
    });
  });

  it('prefers the int8 export when both are there', async () => {
    await clearExports();
    await writeExport(`${checkpoint}.onnx`, { source: source() });
    await writeExport(`${checkpoint}.int8.onnx`, { source: source(), quantization: int8 });
    expect(await resolveEngine('auto', checkpoint)).toMatchObject({
      engine: 'onnx',
      onnxModel: `${checkpoint}.int8.onnx`,
      precision: 'int8',
    });
  });

  it('refuses an export of other weights, naming the command that re-exports', async () => {
    await clearExports();
    await writeExport(`${checkpoint}.onnx`, { source: { checkpoint, weightsSha256: '0'.repeat(64) } });
    await expect(resolveEngine('auto', checkpoint)).rejects.toThrow(
      /best\.onnx was exported from other weights.*pnpm trainer export --checkpoint/,
    );
  });

  it('refuses a stale int8 export even when the float32 one is current', async () => {
    await clearExports();
    await writeExport(`${checkpoint}.onnx`, { source: source() });
    await writeExport(`${checkpoint}.int8.onnx`, {
      source: { checkpoint, weightsSha256: 'f'.repeat(64) },
      quantization: int8,
    });
    await expect(resolveEngine('auto', checkpoint)).rejects.toThrow(/best\.int8\.onnx.*other weights/);
  });

  it('refuses an export that records no checkpoint checksum, or other labels', async () => {
    await clearExports();
    await writeExport(`${checkpoint}.onnx`, {});
    await expect(resolveEngine('auto', checkpoint)).rejects.toThrow(/records no checksum/);
    await writeExport(`${checkpoint}.onnx`, { source: source(), labels: { classes: ['x', 'y'] } });
    await expect(resolveEngine('auto', checkpoint)).rejects.toThrow(/other labels/);
  });

  it('fails when the --onnx-model it was given is missing instead of falling back to tfjs', async () => {
    await clearExports();
    await expect(resolveEngine('auto', checkpoint, path.join(root, 'missing.onnx'))).rejects.toThrow(
      /Cannot read ONNX model/,
    );
  });
});

describe('resolveEngine tfjs | onnx', () => {
  it('does what it is told without looking at the exports', async () => {
    await clearExports();
    await writeExport(`${checkpoint}.onnx`, { source: { checkpoint, weightsSha256: '0'.repeat(64) } });
    expect((await resolveEngine('tfjs', checkpoint)).engine).toBe('tfjs');
    expect(await resolveEngine('onnx', checkpoint)).toMatchObject({
      engine: 'onnx',
      onnxModel: `${checkpoint}.onnx`,
    });
  });
});
