import { gradient, makePng } from '@food/core/testing/synthetic-images';
import { createTinyCheckpoint, type TinyCheckpoint } from '@food/core/testing/tiny-checkpoint';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import type { WorkerPool } from '../../src/inference/worker-pool.ts';
import { injectImage } from '../helpers/inject-image.ts';

// Worker threads run the real production path: worker-bootstrap.mjs registers tsx, the worker loads the
// checkpoint itself, and batches travel as transferred Float32Arrays.
let checkpoint: TinyCheckpoint;
let app: FastifyInstance;
let reference: FastifyInstance;

beforeAll(async () => {
  checkpoint = await createTinyCheckpoint();
  [app, reference] = await Promise.all([
    buildApp({ checkpoint: checkpoint.dir, workers: 1, backend: 'cpu', batchTimeoutMs: 2 }),
    buildApp({ checkpoint: checkpoint.dir, workers: 0, backend: 'cpu' }),
  ]);
  await Promise.all([app.classifier.ready, reference.classifier.ready]);
}, 120_000);

afterAll(async () => {
  await app?.close();
  await reference?.close();
  await checkpoint?.cleanup();
});

const predict = injectImage;

describe('worker threads', () => {
  it('answer exactly what the in-process engine answers', async () => {
    const image = makePng(50, 37, gradient(3));
    const [fromWorker, inProcess] = await Promise.all([predict(app, image), predict(reference, image)]);
    expect(fromWorker.statusCode).toBe(200);
    const a = fromWorker.json().predictions;
    const b = inProcess.json().predictions;
    expect(a.map((p: { label: string }) => p.label)).toEqual(b.map((p: { label: string }) => p.label));
    for (const [index, prediction] of a.entries()) {
      expect(Math.abs(prediction.probability - b[index].probability)).toBeLessThan(1e-6);
    }
  });

  it('keep the worker’s numTensors stable across requests (read through a stats message)', async () => {
    const images = Array.from({ length: 4 }, (_, seed) => makePng(40, 40, gradient(seed)));
    const workerTensors = async () => {
      const { slots } = (await app.inject('/api/stats')).json();
      expect(slots).toHaveLength(1);
      expect(slots[0].id).toBe('worker-0');
      return slots[0].numTensors as number;
    };
    await Promise.all(images.map((image) => predict(app, image)));
    const before = await workerTensors();
    expect(before).toBeGreaterThan(0); // the model's weights
    for (let round = 0; round < 50; round++) {
      const responses = await Promise.all(images.map((image) => predict(app, image)));
      for (const response of responses) expect(response.statusCode).toBe(200);
    }
    expect(await workerTensors()).toBe(before);
  });

  it('fail in-flight requests with 503 WORKER_FAILED when a worker dies, then replace it', async () => {
    const pool = app.classifier.executor as WorkerPool;
    const image = makePng(40, 40, gradient(9));
    // The request must be in the worker when it dies: start stopping the worker in the same tick, just
    // before the batch is posted to it (polling for "in flight" first left a tiny model time to answer;
    // so did stopping it just after posting, on Node 24, whose worker answered before it stopped).
    const run = pool.run.bind(pool);
    let dying: Promise<void> | undefined;
    pool.run = (batch) => {
      pool.run = run;
      dying = pool.terminateWorker(0);
      return run(batch);
    };
    const failed = await predict(app, image);
    await dying;
    expect(failed.statusCode).toBe(503);
    expect(failed.json().error.code).toBe('WORKER_FAILED');
    expect(failed.headers['retry-after']).toBe('1');

    await waitFor(async () => (await app.inject('/api/stats')).json().slots[0].state === 'idle', 60_000);
    const { slots } = (await app.inject('/api/stats')).json();
    expect(slots[0].restarts).toBe(1);
    expect((await predict(app, image)).statusCode).toBe(200);
  }, 90_000);
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
