import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { multipartBody } from '@food/core/testing/multipart-body';
import { gradient, makePng, makePngBomb, TINY_GIF, TINY_WEBP } from '@food/core/testing/synthetic-images';
import { createTinyCheckpoint, TINY_CLASSES, type TinyCheckpoint } from '@food/core/testing/tiny-checkpoint';
import * as tf from '@tensorflow/tfjs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { predictImage } from '../src/client/predict-client.ts';
import { DEFAULTS } from '../src/config.ts';
import { type RunningServer, startServer } from '../src/server.ts';
import { injectImage, injectMultipartImage } from './helpers/inject-image.ts';

let checkpoint: TinyCheckpoint;
let app: FastifyInstance;

beforeAll(async () => {
  checkpoint = await createTinyCheckpoint();
  app = await buildApp({ checkpoint: checkpoint.dir, workers: 0, backend: 'cpu', maxUploadBytes: 64 * 1024 });
  await app.classifier.ready;
});

afterAll(async () => {
  await app?.close();
  await checkpoint?.cleanup();
});

const PNG = makePng(48, 40);

function postImage(image: Uint8Array, query = '', fields: Array<{ name: string; value: string }> = []) {
  return injectMultipartImage(app, image, { contentType: 'image/png', query, fields });
}

function expectError(response: { statusCode: number; json: () => unknown }, status: number, code: string) {
  expect({ status: response.statusCode, body: response.json() }).toMatchObject({
    status,
    body: { error: { code, message: expect.any(String) } },
  });
}

describe('POST /api/predict', () => {
  it('classifies a multipart upload: top 5, probabilities sorted and summing to at most 1', async () => {
    const response = await postImage(PNG);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.model).toEqual({ name: 'tiny-run', checkpoint: 'tiny-run/best' });
    expect(body.latencyMs).toBeGreaterThan(0);
    expect(body.predictions).toHaveLength(5);
    const probabilities = body.predictions.map((p: { probability: number }) => p.probability);
    expect([...probabilities].sort((a, b) => b - a)).toEqual(probabilities);
    expect(probabilities.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 5);
    expect(new Set(body.predictions.map((p: { label: string }) => p.label))).toEqual(new Set(TINY_CLASSES));
    expect(response.headers['x-request-id']).toEqual(expect.any(String));
    expect(response.headers['server-timing']).toMatch(
      /^preprocess;dur=[\d.]+, queue;dur=[\d.]+, run;dur=[\d.]+;desc="batch of 1", inference;dur=[\d.]+$/,
    );
  });

  it('accepts a raw image/* body and gives the same answer', async () => {
    const multipart = (await postImage(PNG)).json();
    const raw = await injectImage(app, PNG);
    expect(raw.statusCode).toBe(200);
    expect(raw.json().predictions).toEqual(multipart.predictions);
  });

  it('honours topK from the query string and from a form field', async () => {
    expect((await postImage(PNG, '?topK=2')).json().predictions).toHaveLength(2);
    expect((await postImage(PNG, '', [{ name: 'topK', value: '3' }])).json().predictions).toHaveLength(3);
  });

  it.each(['0', '-1', 'x', '2.5'])('rejects topK=%s with 400 TOPK_INVALID', async (topK) => {
    expectError(await postImage(PNG, `?topK=${topK}`), 400, 'TOPK_INVALID');
    expectError(await postImage(PNG, '', [{ name: 'topK', value: topK }]), 400, 'TOPK_INVALID');
  });

  it.each(['6', '1000'])('caps topK=%s at the 5 classes', async (topK) => {
    expect((await postImage(PNG, `?topK=${topK}`)).json().predictions).toHaveLength(5);
    expect((await postImage(PNG, '', [{ name: 'topK', value: topK }])).json().predictions).toHaveLength(5);
  });

  it('accepts media-type parameters on a raw body (image/png; charset=binary)', async () => {
    const plain = await app.inject({
      method: 'POST',
      url: '/api/predict',
      payload: PNG,
      headers: { 'content-type': 'image/png' },
    });
    for (const contentType of [
      'image/png; charset=binary',
      'IMAGE/PNG ; name="photo.png"',
      'image/jpeg;q=1',
    ]) {
      const response = await app.inject({
        method: 'POST',
        url: '/api/predict',
        payload: PNG,
        headers: { 'content-type': contentType },
      });
      expect({ contentType, status: response.statusCode }).toEqual({ contentType, status: 200 });
      expect(response.json().predictions).toEqual(plain.json().predictions);
    }
  });

  it.each(['GET', 'PUT', 'DELETE', 'PATCH'] as const)(
    'answers %s /api/predict with 405 and Allow: POST',
    async (method) => {
      const response = await app.inject({ method, url: '/api/predict' });
      expectError(response, 405, 'METHOD_NOT_ALLOWED');
      expect(response.headers.allow).toBe('POST');
      expect(response.json().error.message).toBe(
        `${method} /api/predict is not supported; use POST (see the Allow header). The API is described at GET /docs.`,
      );
    },
  );

  it('decodes JPEG-free formats too: GIF (first frame) and WebP', async () => {
    for (const image of [TINY_GIF, TINY_WEBP]) expect((await postImage(image)).statusCode).toBe(200);
  });

  it('rejects a file in the wrong field, two files, and no file with 400', async () => {
    const wrongField = multipartBody([{ name: 'photo', value: PNG, filename: 'a.png' }]);
    const response = await app.inject({ method: 'POST', url: '/api/predict', ...wrongField });
    expectError(response, 400, 'IMAGE_FIELD_UNEXPECTED');
    expect(response.json().error.message).toContain('"image"');

    const two = multipartBody([
      { name: 'image', value: PNG, filename: 'a.png' },
      { name: 'image', value: PNG, filename: 'b.png' },
    ]);
    expectError(await app.inject({ method: 'POST', url: '/api/predict', ...two }), 400, 'IMAGE_MULTIPLE');

    const none = multipartBody([{ name: 'topK', value: '3' }]);
    expectError(await app.inject({ method: 'POST', url: '/api/predict', ...none }), 400, 'IMAGE_MISSING');
    expectError(await app.inject({ method: 'POST', url: '/api/predict' }), 400, 'IMAGE_MISSING');
  });

  it('answers 413 for uploads over --max-upload-bytes, multipart or raw', async () => {
    const big = Buffer.alloc(65 * 1024, 1);
    const multipart = await postImage(big);
    expectError(multipart, 413, 'UPLOAD_TOO_LARGE');
    expect(multipart.json().error.message).toContain('64 KiB');
    const raw = await injectImage(app, big, 'image/jpeg');
    expectError(raw, 413, 'UPLOAD_TOO_LARGE');
  });

  it('answers 413 for a decompression bomb without decoding it', async () => {
    const started = performance.now();
    expectError(await postImage(makePngBomb()), 413, 'IMAGE_TOO_LARGE');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('answers 415 for formats and content types it does not take', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    expectError(await postImage(svg), 415, 'IMAGE_UNSUPPORTED');
    const text = await app.inject({
      method: 'POST',
      url: '/api/predict',
      payload: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expectError(text, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 422 for a corrupt image and 400 for an empty one', async () => {
    expectError(await postImage(PNG.subarray(0, 60)), 422, 'IMAGE_CORRUPT');
    expectError(await postImage(Buffer.from('definitely not an image, just text')), 415, 'IMAGE_UNSUPPORTED');
    expectError(await postImage(Buffer.alloc(0)), 400, 'IMAGE_EMPTY');
  });
});

describe('a model with fewer classes than the clients ask for', () => {
  let twoClasses: TinyCheckpoint;
  let server: RunningServer;

  beforeAll(async () => {
    twoClasses = await createTinyCheckpoint({ withAssets: false, classes: ['apple_pie', 'baklava'] });
    server = await startServer({
      ...DEFAULTS,
      checkpoint: twoClasses.dir,
      port: 0,
      workers: 0,
      backend: 'cpu',
      logLevel: 'silent',
    });
  });

  afterAll(async () => {
    await server?.close();
    await twoClasses?.cleanup();
  });

  it('answers the web UI (topK=5), the default and `pnpm predict` (--top-k 5) with both classes', async () => {
    for (const query of ['?topK=5', '']) {
      const response = await server.app.inject({
        method: 'POST',
        url: `/api/predict${query}`,
        payload: PNG,
        headers: { 'content-type': 'image/png' },
      });
      expect(response.statusCode).toBe(200);
      expect(
        response
          .json()
          .predictions.map((p: { label: string }) => p.label)
          .sort(),
      ).toEqual(['apple_pie', 'baklava']);
    }
    const fromClient = await predictImage(PNG, 'photo.png', { url: server.url, topK: 5, retries: 0 });
    expect(fromClient.predictions).toHaveLength(2);
  });
});

describe('model, health, docs, metrics, UI', () => {
  it('GET /api/model describes classes, parameters, preprocessing and metrics', async () => {
    const response = await app.inject('/api/model');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      name: 'tiny-run',
      checkpoint: 'tiny-run/best',
      classes: TINY_CLASSES,
      preprocess: { resizeShorterSide: 36, cropSize: 32 },
      training: { epoch: 2, epochs: 3, bestValAccuracy: 0.41, valTop5: 0.93 },
      test: null,
      assets: ['curves.svg'],
    });
    expect(body.parameters).toBeGreaterThan(1000);
    expect(JSON.stringify(body)).not.toContain(checkpoint.dir);
  });

  it('serves whitelisted pictures from the checkpoint folder and nothing else', async () => {
    const curves = await app.inject('/api/model/assets/curves.svg');
    expect(curves.statusCode).toBe(200);
    expect(curves.headers['content-type']).toBe('image/svg+xml');
    expect(curves.headers['content-security-policy']).toContain("default-src 'none'");
    expect(curves.body).toContain('<polyline');
    expectError(await app.inject('/api/model/assets/confusion.svg'), 404, 'ASSET_NOT_FOUND');
    for (const name of [
      'model.json',
      'weights.bin',
      '..%2F..%2Fetc%2Fpasswd',
      '%2E%2E%2Fbest%2Fmodel.json',
    ]) {
      expectError(await app.inject(`/api/model/assets/${name}`), 404, 'ASSET_NOT_FOUND');
    }
  });

  it('GET /api/health and /api/ready answer 200 once the model is warm', async () => {
    expect((await app.inject('/api/health')).json()).toMatchObject({ status: 'ok' });
    const ready = await app.inject('/api/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
  });

  it('unknown routes answer 404 in the error format', async () => {
    const response = await app.inject('/api/nope');
    expectError(response, 404, 'NOT_FOUND');
    expect(response.json().error.message).toBe(
      'There is no route GET /api/nope. The API is described at GET /docs.',
    );
    // A path that exists answers another method with 405 (test/unmatched-requests.test.ts).
    expectError(await app.inject({ method: 'DELETE', url: '/api/model' }), 405, 'METHOD_NOT_ALLOWED');
  });

  it('GET /docs/json is an OpenAPI document of every route; /docs serves Swagger UI locally', async () => {
    const spec = (await app.inject('/docs/json')).json();
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/api/predict',
        '/api/model',
        '/api/model/assets/{name}',
        '/api/health',
        '/api/ready',
        '/api/stats',
        '/metrics',
      ]),
    );
    expect(Object.keys(spec.paths['/api/predict'].post.requestBody.content)).toEqual([
      'multipart/form-data',
      'image/*',
    ]);
    expect(Object.keys(spec.paths['/api/predict'])).toEqual(['post']);
    // Swagger UI's "Try it out" pre-fills the default: it must be a topK the server takes.
    const topK = spec.paths['/api/predict'].post.parameters.find((p: { name: string }) => p.name === 'topK');
    expect(topK).toMatchObject({ in: 'query', schema: { type: 'integer', minimum: 1, default: 5 } });
    const page = await app.inject('/docs/');
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toMatch(/https?:\/\/(?!127\.0\.0\.1|localhost)[a-z]/i);
  });

  it('GET /metrics exposes request counts, latency, batch sizes, queue depth and memory', async () => {
    await postImage(PNG);
    const response = await app.inject('/metrics');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    for (const metric of [
      /http_requests_total\{method="POST",route="\/api\/predict",status="200"\} \d+/,
      /http_request_duration_seconds_bucket\{le="0.005",method="POST",route="\/api\/predict"\}/,
      /inference_batch_size_count \d+/,
      /inference_queue_depth 0/,
      /inference_worker_tensors\{slot="main"\} \d+/,
      /process_resident_memory_bytes \d+/,
    ]) {
      expect(response.body).toMatch(metric);
    }
  });

  it('serves the web UI with a strict content security policy', async () => {
    const page = await app.inject('/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('capture="environment"');
    expect(page.body).not.toMatch(/(src|href)="https?:/);
    for (const asset of ['/app.js', '/format-label.js', '/styles.css', '/favicon.svg']) {
      expect((await app.inject(asset)).statusCode).toBe(200);
    }
  });
});

describe('tensor and memory hygiene', () => {
  // Measured after a full garbage collection and after a warm-up of 1,000 requests: V8 grows its young
  // generation to fit the allocation rate (Node 20 to 32 MiB; Node 24 to 128 MiB, which alone added
  // ~130 MiB of RSS over the first 1,000 requests), so RSS over the first requests measures V8's sizing,
  // not a leak. A leak shows as growth of what survives a collection: JS objects (heapUsed), Buffers and
  // native memory tracked by V8 (external), or untracked native memory (RSS with the other two flat).
  it('keeps numTensors, the JS heap, external memory and RSS stable across 1,000 requests', async () => {
    const gc = global.gc;
    if (!gc) throw new Error('run under vitest.config.ts, which starts the test workers with --expose-gc');
    const images = Array.from({ length: 4 }, (_, seed) => makePng(40, 40, gradient(seed)));
    const run = async (count: number) => {
      for (let i = 0; i < count; i += 8) {
        const responses = await Promise.all(images.concat(images).map((image) => postImage(image)));
        for (const response of responses) expect(response.statusCode).toBe(200);
      }
    };
    const measure = async () => {
      // Buffers' memory goes back when V8's sweeper gets to them, after the collection: let it run.
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const { rss, heapUsed, external } = process.memoryUsage();
      return { numTensors: tf.memory().numTensors, rss, heapUsed, external };
    };
    await run(1000); // warm-up: allocators, caches, V8's young generation
    const before = await measure();
    await run(1000);
    const after = await measure();
    const growthMiB = (key: 'rss' | 'heapUsed' | 'external') => (after[key] - before[key]) / 1024 / 1024;
    expect(after.numTensors).toBe(before.numTensors);
    // Measured growth over these 1,000 requests: < 1 MiB of heap and external, < 8 MiB of RSS, on
    // Node 20 and 24 (external once 10 MiB, under load, before the sweeper was given time above).
    // Keeping one decoded 224 × 224 image per request would add ~600 MiB, a 17 KB object 17 MiB.
    expect(growthMiB('heapUsed'), 'JS objects retained across requests').toBeLessThan(16);
    expect(growthMiB('external'), 'Buffers / native memory retained across requests').toBeLessThan(16);
    expect(growthMiB('rss'), 'RSS grew with a flat heap: native memory (sharp, tfjs) leaks').toBeLessThan(64);
  }, 180_000);
});

describe('startup errors', () => {
  it('fails at once with the CheckpointError message when the folder is missing', async () => {
    await expect(
      buildApp({ checkpoint: path.join(checkpoint.dir, 'nope'), workers: 0 }),
    ).rejects.toMatchObject({
      name: 'CheckpointError',
      message: expect.stringContaining('nope'),
    });
  });

  it('fails when labels.json was altered after saving (checksum)', async () => {
    const copy = await createTinyCheckpoint({ withAssets: false });
    try {
      const labels = path.join(copy.dir, 'labels.json');
      await writeFile(labels, (await readFile(labels, 'utf8')).replace('ramen', 'udon'));
      await expect(buildApp({ checkpoint: copy.dir, workers: 0 })).rejects.toMatchObject({
        name: 'CheckpointError',
      });
    } finally {
      await copy.cleanup();
    }
  });

  it('rejects `ready` when the weights are corrupt, and answers 503 until then', async () => {
    const copy = await createTinyCheckpoint({ withAssets: false });
    try {
      await rm(path.join(copy.dir, 'weights.bin'));
      await writeFile(path.join(copy.dir, 'weights.bin'), 'garbage');
      const broken = await buildApp({ checkpoint: copy.dir, workers: 0, backend: 'cpu' }).catch(
        (error) => error,
      );
      if (broken instanceof Error) {
        expect(broken.name).toBe('CheckpointError');
        return;
      }
      expectError(await broken.inject('/api/ready'), 503, 'MODEL_LOADING');
      await expect(broken.classifier.ready).rejects.toMatchObject({ name: 'CheckpointError' });
      const predict = await injectImage(broken, PNG);
      expectError(predict, 503, 'MODEL_LOADING');
      expect(predict.headers['retry-after']).toBe('5');
      await broken.close();
    } finally {
      await copy.cleanup();
    }
  });
});
