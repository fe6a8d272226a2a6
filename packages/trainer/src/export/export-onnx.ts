/**
 * `pnpm trainer export --format onnx`: checkpoint folder → one .onnx file (float32, or int8 QDQ
 * calibrated on training images) carrying the checkpoint's preprocessing and labels as metadata.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadCheckpoint, readCheckpointMetadata } from '@food/core/checkpoint/load-checkpoint';
import { encodeOnnxMetadata, type OnnxModelMetadata } from '@food/core/engine/onnx-metadata';
import { UserError } from '@food/core/errors';
import type { PreprocessConfig } from '@food/core/preprocess/config';
import { preprocessImage } from '@food/core/preprocess/image';
import seedrandom from 'seedrandom';
import { readManifest } from '../data/prepared-set.ts';
import { type RunSplitSettings, withRunSplit } from '../data/run-split.ts';
import { calibrateRanges } from './calibrate.ts';
import { layersModelToOnnx } from './layers-to-onnx.ts';
import { encodeModel, type OnnxGraph } from './onnx-graph.ts';
import { activationsToCalibrate, quantizeGraph } from './quantize-qdq.ts';

export interface CalibrationSource {
  /** A prepared data set folder (data/prepared/NAME); images come from its training split. */
  prepared: string;
  images: number;
  /** Seed of the sample of training images (default 0). */
  seed?: number;
  /** The run's own train/val split (`pnpm train --val-fraction`); absent: the prepared folder's. */
  split?: RunSplitSettings;
}

export interface ExportOnnxOptions {
  checkpoint: string;
  out: string;
  quantize?: 'int8';
  /** Required with `quantize`. */
  calibration?: CalibrationSource;
  intraOpThreads?: number;
  onCalibrationProgress?: (done: number, total: number) => void;
}

export interface ExportOnnxResult {
  out: string;
  bytes: number;
  nodes: number;
  quantized: boolean;
}

export async function exportCheckpointToOnnx(options: ExportOnnxOptions): Promise<ExportOnnxResult> {
  if (options.quantize && !options.calibration) {
    throw new UserError(
      '--quantize int8 needs calibration images: pass --calibration data/prepared/NAME.',
      'EXPORT_NO_CALIBRATION',
    );
  }
  const metadataFiles = await readCheckpointMetadata(options.checkpoint);
  const checkpoint = await loadCheckpoint(options.checkpoint);
  let graph: OnnxGraph;
  try {
    graph = layersModelToOnnx(checkpoint.model);
  } finally {
    checkpoint.model.dispose();
  }
  const metadata: OnnxModelMetadata = {
    preprocess: checkpoint.preprocess,
    labels: checkpoint.labels,
    source: {
      checkpoint: options.checkpoint,
      weightsSha256: metadataFiles.files['weights.bin']?.sha256 ?? '',
    },
  };
  if (options.quantize && options.calibration) {
    const calibration = options.calibration;
    const images = await sampleTrainingImages(calibration);
    const activations = activationsToCalibrate(graph);
    let done = 0;
    const ranges = await calibrateRanges(graph, activations, preprocessAll(images, checkpoint.preprocess), {
      intraOpThreads: options.intraOpThreads,
      onBatch: (count) => {
        done += count;
        options.onCalibrationProgress?.(done, images.length);
      },
    });
    graph = quantizeGraph(graph, ranges);
    metadata.quantization = {
      format: 'int8-qdq',
      calibration: { source: calibration.prepared, images: images.length, method: 'minmax' },
    };
  }
  const bytes = encodeModel(graph, {
    metadata: encodeOnnxMetadata(metadata),
    docString: `ResNet-50 exported from ${options.checkpoint}${options.quantize ? ', int8 QDQ' : ''}`,
  });
  await writeAtomically(options.out, bytes);
  return {
    out: options.out,
    bytes: bytes.length,
    nodes: graph.nodes.length,
    quantized: Boolean(options.quantize),
  };
}

/** A seeded sample of the training split (never val/test: calibration must not see evaluation images). */
async function sampleTrainingImages(source: CalibrationSource): Promise<string[]> {
  const manifest = withRunSplit(await readManifest(source.prepared), source.split);
  const train = manifest.splits.train.map((entry) => path.join(manifest.dataRoot, entry.image));
  if (train.length === 0) {
    throw new UserError(
      `${source.prepared} has no training images to calibrate on.`,
      'EXPORT_NO_CALIBRATION',
    );
  }
  const random = seedrandom(`calibration:${source.seed ?? 0}`);
  for (let i = train.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [train[i], train[j]] = [train[j]!, train[i]!];
  }
  return train.slice(0, source.images);
}

async function* preprocessAll(files: string[], config: PreprocessConfig): AsyncGenerator<Float32Array> {
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (error) {
      throw new UserError(
        `calibration image ${file} cannot be read (${(error as NodeJS.ErrnoException).code}); is the data set's dataRoot still there?`,
        'EXPORT_CALIBRATION_IMAGE',
      );
    }
    yield preprocessImage(bytes, config);
  }
}

/** Writes beside the target and renames, so an interrupted export never leaves half a model. */
async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const temporary = `${file}.tmp-${process.pid}`;
  await writeFile(temporary, bytes);
  await rename(temporary, file);
}
