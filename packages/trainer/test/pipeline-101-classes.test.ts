/**
 * Every Food-101 class through the whole pipeline: a synthetic set with the 101 official
 * class names, a few tiny images each, prepared with `--classes 101`, its stats, two training steps of a
 * tiny ResNet, evaluation on the test split and the report.
 */
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { readEvaluationMetrics } from '@food/core/report/report-metrics-file';
import { SHARED_DATA } from '@food/core/testing/shared-data';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../src/data/prepared-set.ts';
import { runEvaluation } from '../src/evaluate/run-evaluation.ts';
import { runTraining } from '../src/train/run-training.ts';
import { createPreparedSynth, type PreparedSynth, tinyTrainConfig } from './fixtures/prepared-synth.ts';

const officialClasses = path.join(SHARED_DATA.food101Meta, 'classes.txt');

describe('101 classes: prepare → stats → train → evaluate → report', () => {
  let synth: PreparedSynth;

  beforeAll(async () => {
    await initBackend('wasm', () => {});
    // 4 images per class: 3 for training and validation, 1 for the test split (Food-101's 75:25).
    synth = await createPreparedSynth({ classes: 101, imagesPerClass: 4 });
  }, 120_000);

  afterAll(async () => {
    if (synth) await rm(synth.root, { recursive: true, force: true });
  });

  it('prepares every official class', async () => {
    const manifest = await readManifest(synth.prepared);
    expect(manifest.classes).toHaveLength(101);
    if (existsSync(officialClasses)) {
      const official = (await readFile(officialClasses, 'utf8')).trim().split('\n');
      expect(manifest.classes).toEqual([...official].sort());
    }
    expect(new Set(manifest.splits.test.map((sample) => sample.label)).size).toBe(101);
  });

  it('trains, evaluates and reports 101 classes without leaking tensors', async () => {
    const out = path.join(synth.root, 'run');
    await runTraining(tinyTrainConfig(synth, 'run', { maxSteps: 2, epochs: 1, augment: false }), {
      log: () => {},
      shouldStop: () => false,
      progress: false,
    });
    const before = tf.memory().numTensors;
    const report = path.join(synth.root, 'report');
    const { metrics } = await runEvaluation(
      {
        checkpoint: path.join(out, 'latest'),
        prepared: synth.prepared,
        split: 'test',
        out: report,
        batchSize: 16,
        latencySamples: 1,
      },
      { log: () => {}, progress: false },
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(Object.keys(metrics.perClass)).toHaveLength(101);
    expect((await readEvaluationMetrics(report)).numImages).toBe(101);
    const confusion = (await readFile(path.join(report, 'confusion.csv'), 'utf8')).trim().split('\n');
    expect(confusion).toHaveLength(102);
    const html = await readFile(path.join(report, 'report.html'), 'utf8');
    // The per-class table has a row for every class; the confusion chart names them all.
    // The confusion chart keeps its size (the figure scrolls), so 101 names stay legible.
    expect(html).toContain('<figure class="chart full-size"><svg');
    const perClass = html.slice(html.indexOf('<h2>Per class</h2>'));
    expect(perClass.match(/<tr>\s*<th scope="row">/g)).toHaveLength(101);
    const svg = await readFile(path.join(report, 'confusion.svg'), 'utf8');
    for (const name of (await readManifest(synth.prepared)).classes) expect(svg).toContain(`>${name}<`);
  }, 300_000);
});
