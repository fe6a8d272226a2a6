import { multipartBody } from '@food/core/testing/multipart-body';
import { makePng } from '@food/core/testing/synthetic-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReferenceServer, referenceUnavailable, startFlaskReference } from '../src/flask-reference.ts';

// Decided before the tests are collected, so the skip can say why in its title.
const unavailable = await referenceUnavailable();
const title = 'the Flask + PyTorch reference of bench:serve';

describe.skipIf(unavailable)(unavailable ? `${title} (SKIPPED: ${unavailable})` : title, () => {
  let server: ReferenceServer;
  beforeAll(async () => {
    // The tiny shape bench:serve's default checkpoint has: starts in seconds.
    server = await startFlaskReference(
      {
        labels: ['apple_pie', 'chicken_wings', 'french_fries', 'ramen', 'sushi', 'tacos'],
        preprocess: { resizeShorterSide: 36, cropSize: 32, mean: [0.5, 0.4, 0.3], std: [0.25, 0.25, 0.25] },
        widthMultiplier: 1 / 16,
        blocksPerStage: [1, 1, 1, 1],
      },
      { threads: 1, timeoutMs: 25_000 },
    );
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('answers a multipart photo with the top 5 of the softmax', async () => {
    expect(server.description.model).toBe('pytorch_resnet50.py ResNet-50 v1');
    expect(server.description.threads).toBe(1);
    const { payload, headers } = multipartBody([
      { name: 'image', value: makePng(64, 48), filename: 'photo.png', contentType: 'image/png' },
    ]);
    const response = await fetch(`${server.url}/api/predict`, {
      method: 'POST',
      body: new Uint8Array(payload),
      headers,
    });
    expect(response.status).toBe(200);
    const { predictions } = (await response.json()) as {
      predictions: Array<{ label: string; probability: number }>;
    };
    expect(predictions).toHaveLength(5);
    const probabilities = predictions.map((p) => p.probability);
    expect(probabilities).toEqual([...probabilities].sort((a, b) => b - a));
    // Five of six classes: less than the whole softmax, more than nothing.
    const sum = probabilities.reduce((a, b) => a + b, 0);
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(1);
  });

  it('answers 400 with the reason to a request without a photo', async () => {
    const { payload, headers } = multipartBody([{ name: 'file', value: 'not here' }]);
    const response = await fetch(`${server.url}/api/predict`, {
      method: 'POST',
      body: new Uint8Array(payload),
      headers,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "send the photo as the multipart field 'image'" });
  });

  it('is gone once stopped', async () => {
    await server.stop();
    await expect(fetch(`${server.url}/api/ready`)).rejects.toThrow();
  });
});
