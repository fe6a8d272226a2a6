import { gradient, makePng } from '@food/core/testing/synthetic-images';
import { createTinyCheckpoint, type TinyCheckpoint } from '@food/core/testing/tiny-checkpoint';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { injectImage } from '../helpers/inject-image.ts';

let checkpoint: TinyCheckpoint;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  checkpoint = await createTinyCheckpoint();
});

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await checkpoint?.cleanup();
});

async function startApp(options: { maxBatch?: number; batchTimeoutMs?: number; maxQueue?: number }) {
  const app = await buildApp({ checkpoint: checkpoint.dir, workers: 0, backend: 'cpu', ...options });
  apps.push(app);
  await app.classifier.ready;
  return app;
}

const predict = injectImage;

type Prediction = { label: string; probability: number };
const byLabel = (predictions: Prediction[]) =>
  Object.fromEntries(predictions.map(({ label, probability }) => [label, probability]));

describe('micro-batching through the API', () => {
  it('puts concurrent requests in one batch, and each gets its own single-request answer', async () => {
    const app = await startApp({ maxBatch: 8, batchTimeoutMs: 100 });
    const images = Array.from({ length: 4 }, (_, seed) => makePng(44, 40, gradient(seed * 5)));

    const alone: Array<Record<string, number>> = [];
    for (const image of images) alone.push(byLabel((await predict(app, image)).json().predictions));
    expect(app.classifier.batcher.stats().batchSizes).toEqual({ 1: 4 });

    const together = await Promise.all(images.map((image) => predict(app, image)));
    expect(app.classifier.batcher.stats().batchSizes).toEqual({ 1: 4, 4: 1 });
    expect((await app.inject('/api/stats')).json().batcher.batchSizes).toEqual({ 1: 4, 4: 1 });

    for (const [index, response] of together.entries()) {
      const batched = byLabel(response.json().predictions);
      for (const [label, probability] of Object.entries(alone[index])) {
        expect(Math.abs(batched[label] - probability)).toBeLessThan(1e-6);
      }
    }
    // The images differ, so their answers do: nobody got a neighbour's result.
    expect(alone[0]).not.toEqual(alone[1]);
  });

  it('answers 503 QUEUE_FULL with Retry-After once the queue is full, and serves the rest', async () => {
    // A long batch timeout keeps the first images waiting in the queue, so the rest find it full.
    const app = await startApp({ maxBatch: 8, batchTimeoutMs: 1000, maxQueue: 3 });
    const images = Array.from({ length: 6 }, (_, seed) => makePng(40, 40, gradient(seed)));
    const responses = await Promise.all(images.map((image) => predict(app, image)));
    const statuses = responses.map((response) => response.statusCode).sort();
    expect(statuses).toEqual([200, 200, 200, 503, 503, 503]);
    for (const response of responses.filter((candidate) => candidate.statusCode === 503)) {
      expect(response.json().error).toEqual({
        code: 'QUEUE_FULL',
        message: expect.stringContaining('Retry-After'),
      });
      expect(response.headers['retry-after']).toBe('1');
    }
    expect(app.classifier.batcher.stats().batchSizes).toEqual({ 3: 1 });
    expect(responses.every((response) => [200, 503].includes(response.statusCode))).toBe(true);
  });
});
