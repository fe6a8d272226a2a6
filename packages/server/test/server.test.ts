import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../src/config.ts';
import { startServer } from '../src/server.ts';
import { gradient, makePng } from './helpers/images.ts';
import { createTinyCheckpoint, type TinyCheckpoint } from './helpers/tiny-checkpoint.ts';

let checkpoint: TinyCheckpoint;

beforeAll(async () => {
  checkpoint = await createTinyCheckpoint({ withAssets: false });
});

afterAll(async () => {
  await checkpoint?.cleanup();
});

describe('graceful shutdown', () => {
  it('finishes in-flight requests, answers new ones 503 SHUTTING_DOWN, then refuses connections', async () => {
    const server = await startServer({
      ...DEFAULTS,
      checkpoint: checkpoint.dir,
      port: 0,
      workers: 0,
      backend: 'cpu',
      // Hold the requests in the queue so they are certainly in flight when shutdown starts.
      batchTimeoutMs: 400,
      drainDelayMs: 200,
      logLevel: 'silent',
    });
    const post = (seed: number) =>
      fetch(`${server.url}/api/predict`, {
        method: 'POST',
        body: new Uint8Array(makePng(40, 40, gradient(seed))),
        headers: { 'content-type': 'image/png' },
      });
    const inFlight = [1, 2, 3].map(post);
    const deadline = Date.now() + 10_000;
    while (server.app.classifier.batcher.queued < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(server.app.classifier.batcher.queued).toBe(3);

    const closed = server.close();
    const [late, ready] = await Promise.all([post(4), fetch(`${server.url}/api/ready`)]);
    for (const response of [late, ready]) {
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('SHUTTING_DOWN');
    }

    const responses = await Promise.all(inFlight);
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200]);
    await closed;
    await expect(post(5)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
  });
});
