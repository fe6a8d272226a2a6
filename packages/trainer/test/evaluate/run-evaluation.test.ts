import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { CheckpointError } from '@food/core/checkpoint/checkpoint-error';
import { loadCheckpoint } from '@food/core/checkpoint/load-checkpoint';
import { createTfjsEngine } from '@food/core/engine/tfjs-engine';
import { classificationMetrics } from '@food/core/metrics/classification-metrics';
import { confusionMatrix } from '@food/core/metrics/confusion-matrix';
import { preprocessImage } from '@food/core/preprocess/image';
import { readEvaluationMetrics } from '@food/core/report/report-metrics-file';
import * as tf from '@tensorflow/tfjs';
import { parseString } from 'fast-csv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/data/prepared-set.ts';
import { spreadSubset } from '../../src/data/spread-subset.ts';
import { type EvaluateOptions, runEvaluation, runNameOf } from '../../src/evaluate/run-evaluation.ts';
import { exportCheckpointToOnnx } from '../../src/export/export-onnx.ts';
import { runTraining } from '../../src/train/run-training.ts';
import { createPreparedSynth, type PreparedSynth, tinyTrainConfig } from '../fixtures/prepared-synth.ts';

const quiet = { log: () => {}, progress: false };

async function readCsv(file: string): Promise<string[][]> {
  const text = await readFile(file, 'utf8');
  return new Promise((resolve, reject) => {
    const rows: string[][] = [];
    parseString(text, { ignoreEmpty: true })
      .on('data', (row: string[]) => rows.push(row))
      .on('error', reject)
      .on('end', () => resolve(rows));
  });
}

describe('spreadSubset', () => {
  it('takes evenly spaced samples, so a class-ordered split keeps every class', () => {
    const split = ['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b', 'c', 'c', 'c', 'c'];
    expect(spreadSubset(split, 3)).toEqual(['a', 'b', 'c']);
    expect(spreadSubset(split, 6)).toEqual(['a', 'a', 'b', 'b', 'c', 'c']);
    expect(spreadSubset(split, 12)).toEqual(split);
    expect(spreadSubset(split, 50)).toEqual(split);
    expect(spreadSubset(split)).toEqual(split);
  });
});

describe('runEvaluation (tiny ResNet trained on synthetic Food-101)', () => {
  let synth: PreparedSynth;
  let run: string;
  let options: EvaluateOptions;

  beforeAll(async () => {
    await initBackend('wasm', () => {});
    synth = await createPreparedSynth({ classes: 4, imagesPerClass: 16 });
    run = path.join(synth.root, 'checkpoints', 'tiny');
    await runTraining(
      tinyTrainConfig(synth, path.join('checkpoints', 'tiny'), { learningRate: 1e-2, augment: false }),
      { log: () => {}, shouldStop: () => false, progress: false },
    );
    options = {
      checkpoint: path.join(run, 'best'),
      prepared: synth.prepared,
      split: 'test',
      out: path.join(synth.root, 'report'),
      batchSize: 5,
      latencySamples: 3,
    };
  }, 180_000);

  afterAll(async () => {
    if (synth) await rm(synth.root, { recursive: true, force: true });
  });

  it('writes every file, and the metrics are what predictions.csv and confusion.csv say', async () => {
    const before = tf.memory().numTensors;
    const compare = path.join(run, 'epoch-001');
    const { metrics, files } = await runEvaluation({ ...options, compare, saveProbabilities: true }, quiet);
    expect(tf.memory().numTensors).toBe(before);
    const manifest = await readManifest(synth.prepared);
    const classes = manifest.classes;
    const out = (name: string) => path.join(options.out, name);
    expect(files.sort()).toEqual(
      [
        'metrics.json',
        'predictions.csv',
        'per-class.csv',
        'confusion.csv',
        'confusion.svg',
        'curves.svg',
        'probabilities.json',
        'report.html',
        'report.md',
      ].sort(),
    );

    const saved = await readEvaluationMetrics(options.out);
    expect(saved).toEqual(JSON.parse(JSON.stringify(metrics)));
    expect(saved.numImages).toBe(manifest.splits.test.length);
    expect(saved).toMatchObject({
      split: 'test',
      backend: 'wasm',
      tta: 'none',
      checkpoint: options.checkpoint,
      limit: null,
    });
    expect(saved.parameters).toBeGreaterThan(0);
    expect(saved.sizeBytes).toBeGreaterThan(0);
    expect(saved.latency.samples).toBe(3);
    expect(saved.latency.endToEnd.p95Ms).toBeGreaterThanOrEqual(saved.latency.endToEnd.p50Ms);
    expect(saved.baselines.compare?.checkpoint).toBe(compare);

    // predictions.csv: one row per test image, in manifest order; metrics recomputed from it agree.
    const [header, ...rows] = await readCsv(out('predictions.csv'));
    expect(header).toEqual(['image', 'label', 'prediction', 'confidence', 'top5']);
    expect(rows.map((row) => row[0])).toEqual(manifest.splits.test.map((sample) => sample.image));
    const yTrue = rows.map((row) => classes.indexOf(row[1]));
    const yPred = rows.map((row) => classes.indexOf(row[2]));
    const recomputed = classificationMetrics(confusionMatrix(yTrue, yPred, classes.length));
    expect(saved.accuracy).toBe(recomputed.accuracy);
    expect(saved.precision).toEqual(recomputed.precision);
    expect(saved.recall).toEqual(recomputed.recall);
    expect(saved.f1).toEqual(recomputed.f1);
    for (const [index, name] of classes.entries()) {
      const { precision, recall, f1, support } = recomputed.perClass[index];
      expect(saved.perClass[name]).toEqual({ precision, recall, f1, support });
    }
    const top5Hits = rows.filter((row) =>
      row[4]
        .split('|')
        .map((pair) => pair.split(':')[0])
        .includes(row[1]),
    ).length;
    expect(saved.top5Accuracy).toBe(top5Hits / rows.length);
    for (const row of rows) {
      const top = row[4].split('|').map((pair) => pair.split(':'));
      expect(top[0]).toEqual([row[2], row[3]]);
      expect(top).toHaveLength(Math.min(5, classes.length));
    }

    // confusion.csv: headers name the classes, counts sum to the number of images.
    const [confusionHeader, ...confusionRows] = await readCsv(out('confusion.csv'));
    expect(confusionHeader.slice(1)).toEqual(classes);
    expect(confusionRows.map((row) => row[0])).toEqual(classes);
    const counts = confusionRows.map((row) => row.slice(1).map(Number));
    expect(counts).toEqual(confusionMatrix(yTrue, yPred, classes.length));
    expect(counts.flat().reduce((a, b) => a + b, 0)).toBe(saved.numImages);

    const [perClassHeader, ...perClassRows] = await readCsv(out('per-class.csv'));
    expect(perClassHeader).toEqual(['class', 'precision', 'recall', 'f1', 'support']);
    expect(perClassRows.map((row) => [row[0], Number(row[3]), Number(row[4])])).toEqual(
      classes.map((name) => [name, saved.perClass[name].f1, saved.perClass[name].support]),
    );

    // Charts: valid standalone SVG, one hover title per confusion cell.
    const confusion = await readFile(out('confusion.svg'), 'utf8');
    expect(confusion).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(confusion.match(/<title>true /g)).toHaveLength(classes.length ** 2);
    expect(await readFile(out('curves.svg'), 'utf8')).toMatch(/^<svg [\s\S]*epoch[\s\S]*<\/svg>$/);

    // The reports: self-contained HTML (nothing fetched), Markdown with the same headline numbers.
    const html = await readFile(out('report.html'), 'utf8');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/<script|<link/);
    expect(html).toContain((saved.accuracy * 100).toFixed(1));
    expect(html).toContain('Majority class');
    expect(html).toContain('Compared checkpoint');
    const markdown = await readFile(out('report.md'), 'utf8');
    expect(markdown).toContain(`| Top-1 accuracy | ${(saved.accuracy * 100).toFixed(1)}% |`);
    expect(markdown).toContain(`| Top-5 accuracy | ${(saved.top5Accuracy * 100).toFixed(1)}% |`);
    expect(markdown).toContain(saved.f1.macro.toFixed(3));
    expect(markdown).toContain('· no test-time augmentation ·');
    expect(html).toContain('· no test-time augmentation ·');
  });

  it('gives the probabilities of preprocessImage + the engine, exactly', async () => {
    await runEvaluation({ ...options, limit: 4, saveProbabilities: true }, quiet);
    const saved = JSON.parse(await readFile(path.join(options.out, 'probabilities.json'), 'utf8')) as {
      images: string[];
      probabilities: number[][];
    };
    expect(saved.images).toHaveLength(4);
    const checkpoint = await loadCheckpoint(options.checkpoint);
    const engine = createTfjsEngine(checkpoint.model);
    try {
      for (const index of [0, 3]) {
        const bytes = await readFile(path.join(synth.dataRoot, saved.images[index]));
        const [expected] = await engine.predict([await preprocessImage(bytes, checkpoint.preprocess)]);
        expect(saved.probabilities[index]).toHaveLength(expected.length);
        saved.probabilities[index].forEach((probability, c) => {
          expect(Math.abs(probability - expected[c])).toBeLessThanOrEqual(1e-6);
        });
      }
    } finally {
      engine.dispose();
    }
  });

  it('--tta flip scores each image as the mean of the engine on it and on its mirror, and says so', async () => {
    const out = path.join(synth.root, 'report-tta');
    const { metrics } = await runEvaluation(
      { ...options, out, limit: 4, saveProbabilities: true, tta: 'flip' },
      quiet,
    );
    expect(metrics.tta).toBe('flip');
    const saved = JSON.parse(await readFile(path.join(out, 'probabilities.json'), 'utf8')) as {
      images: string[];
      probabilities: number[][];
    };
    const checkpoint = await loadCheckpoint(options.checkpoint);
    const engine = createTfjsEngine(checkpoint.model);
    let mirrorShift = 0;
    try {
      const { cropSize } = checkpoint.preprocess;
      for (const [index, image] of saved.images.entries()) {
        const input = await preprocessImage(
          await readFile(path.join(synth.dataRoot, image)),
          checkpoint.preprocess,
        );
        const mirror = tf.tidy(
          () => tf.reverse(tf.tensor3d(input, [cropSize, cropSize, 3]), 1).dataSync() as Float32Array,
        );
        const [plain, mirrored] = await engine.predict([input, mirror]);
        saved.probabilities[index].forEach((probability, c) => {
          expect(Math.abs(probability - (plain[c] + mirrored[c]) / 2)).toBeLessThanOrEqual(1e-6);
          mirrorShift = Math.max(mirrorShift, Math.abs(plain[c] - mirrored[c]));
        });
      }
    } finally {
      engine.dispose();
    }
    // Not vacuous: the plain pass alone would be off by half of this.
    expect(mirrorShift).toBeGreaterThan(1e-4);
    const flip = 'test-time augmentation: flip (mean softmax of the centre crop and its mirror';
    expect(await readFile(path.join(out, 'report.md'), 'utf8')).toContain(flip);
    expect(await readFile(path.join(out, 'report.html'), 'utf8')).toContain(flip);
  });

  it('--engine onnx gives the tfjs predictions (same top-1, probabilities within 1e-4)', async () => {
    const onnxModel = path.join(synth.root, 'tiny.onnx');
    await exportCheckpointToOnnx({ checkpoint: options.checkpoint, out: onnxModel });
    const tfjsOut = path.join(synth.root, 'report-tfjs');
    const onnxOut = path.join(synth.root, 'report-onnx');
    await runEvaluation({ ...options, out: tfjsOut, saveProbabilities: true }, quiet);
    const onnx = await runEvaluation(
      { ...options, out: onnxOut, saveProbabilities: true, engine: 'onnx', onnxModel },
      quiet,
    );
    expect(onnx.metrics.backend).toBe(`onnxruntime (${path.basename(onnxModel)})`);
    const read = async (dir: string) =>
      JSON.parse(await readFile(path.join(dir, 'probabilities.json'), 'utf8')) as {
        probabilities: number[][];
      };
    const [a, b] = [await read(tfjsOut), await read(onnxOut)];
    expect(b.probabilities).toHaveLength(a.probabilities.length);
    let maxDiff = 0;
    a.probabilities.forEach((row, i) => {
      row.forEach((p, c) => {
        maxDiff = Math.max(maxDiff, Math.abs(p - b.probabilities[i][c]));
      });
    });
    expect(maxDiff).toBeLessThan(1e-4);
    const predictions = async (dir: string) =>
      (await readCsv(path.join(dir, 'predictions.csv'))).map((r) => r[2]);
    expect(await predictions(onnxOut)).toEqual(await predictions(tfjsOut));
  });

  it('skips the curves with a note when the checkpoint is not in a run folder', async () => {
    const lonely = path.join(synth.root, 'elsewhere', 'model');
    await cp(path.join(run, 'best'), lonely, { recursive: true, dereference: true });
    const out = path.join(synth.root, 'report-lonely');
    const { files } = await runEvaluation({ ...options, checkpoint: lonely, out, limit: 6 }, quiet);
    expect(files).not.toContain('curves.svg');
    expect(await readFile(path.join(out, 'report.html'), 'utf8')).toContain('No training curves');
    expect(runNameOf(lonely)).toBe('elsewhere');
  });

  it('refuses a data set with other classes', async () => {
    const other = path.join(synth.root, 'prepared-other');
    await mkdir(other, { recursive: true });
    const manifest = await readManifest(synth.prepared);
    const renamed = { ...manifest, classes: manifest.classes.map((name) => `x_${name}`) };
    await writeFile(path.join(other, 'manifest.json'), JSON.stringify(renamed));
    await expect(runEvaluation({ ...options, prepared: other }, quiet)).rejects.toThrow(
      /checkpoint was trained on other classes .*4 data set classes are not in the checkpoint \(x_/,
    );
    // One class more than the checkpoint knows: only the side that differs is described.
    await writeFile(
      path.join(other, 'manifest.json'),
      JSON.stringify({ ...manifest, classes: [...manifest.classes, 'x_extra'] }),
    );
    const error = await runEvaluation({ ...options, prepared: other }, quiet).catch((e: Error) => e);
    expect((error as Error).message).toMatch(
      /4 vs 5 classes, 1 data set classes are not in the checkpoint \(x_extra\)\. /,
    );
    expect((error as Error).message).not.toMatch(/\b0 checkpoint classes|\(\)/);
  });

  it('says clearly when the checkpoint does not exist', async () => {
    const missing = path.join(synth.root, 'checkpoints', 'nope', 'best');
    const error = await runEvaluation({ ...options, checkpoint: missing }, quiet).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as Error).message).toMatch(/No checkpoint at .*nope.*it does not exist/);
  });
});
