import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadCheckpoint } from '@food/core/checkpoint/load-checkpoint';
import type { InferenceEngine } from '@food/core/engine/inference-engine';
import { createTfjsEngine } from '@food/core/engine/tfjs-engine';
import { preprocessImage } from '@food/core/preprocess/image';
import { SHARED_DATA } from '@food/core/testing/shared-data';
import { gradient, makePng } from '@food/core/testing/synthetic-images';
import { createTinyCheckpoint, TINY_CLASSES, type TinyCheckpoint } from '@food/core/testing/tiny-checkpoint';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { injectMultipartImage } from './helpers/inject-image.ts';

// Training/serving skew guard: the API's probabilities for a file must be what the engine gives for
// preprocessImage(file) with the checkpoint's preprocess.json, on the same backend.
const FOOD10 = SHARED_DATA.food10Images;

let checkpoint: TinyCheckpoint;
let app: FastifyInstance;
let engine: InferenceEngine;
let preprocess: Awaited<ReturnType<typeof loadCheckpoint>>['preprocess'];

beforeAll(async () => {
  checkpoint = await createTinyCheckpoint({ withAssets: false });
  app = await buildApp({ checkpoint: checkpoint.dir, workers: 0, backend: 'cpu' });
  await app.classifier.ready;
  const loaded = await loadCheckpoint(checkpoint.dir);
  preprocess = loaded.preprocess;
  engine = createTfjsEngine(loaded.model, { maxBatch: 1 });
});

afterAll(async () => {
  engine?.dispose();
  await app?.close();
  await checkpoint?.cleanup();
});

async function expectNoSkew(image: Buffer, filename: string) {
  const response = await injectMultipartImage(app, image, {
    filename,
    query: `?topK=${TINY_CLASSES.length}`,
  });
  expect(response.statusCode).toBe(200);
  const [direct] = await engine.predict([await preprocessImage(image, preprocess)]);
  for (const { label, probability } of response.json().predictions) {
    expect(Math.abs(probability - direct[TINY_CLASSES.indexOf(label)])).toBeLessThan(1e-6);
  }
}

function firstFood10Jpeg(): string | undefined {
  if (!existsSync(FOOD10)) return undefined;
  const [dish] = readdirSync(FOOD10);
  const [file] = readdirSync(path.join(FOOD10, dish)).filter((name) => name.endsWith('.jpg'));
  return file ? path.join(FOOD10, dish, file) : undefined;
}

describe('API vs preprocessImage + engine', () => {
  it('agree to 1e-6 for a PNG', async () => {
    await expectNoSkew(makePng(120, 90, gradient(4)), 'synthetic.png');
  });

  const jpeg = firstFood10Jpeg();
  it.skipIf(!jpeg)(
    `agree to 1e-6 for a real Food-101 JPEG${jpeg ? '' : ' (skipped: ../shared/data/food10 absent)'}`,
    async () => {
      await expectNoSkew(await readFile(jpeg as string), path.basename(jpeg as string));
    },
  );
});
