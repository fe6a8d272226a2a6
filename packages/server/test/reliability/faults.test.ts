import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gradient, makePng } from '@food/core/testing/synthetic-images';
import { describe, expect, it } from 'vitest';
import type { WorkerPool } from '../../src/inference/worker-pool.ts';
import { injectImage } from '../helpers/inject-image.ts';
import { useTinyApp } from '../helpers/tiny-server.ts';

// Faults while serving: the checkpoint changes under a running server, and a worker dies with
// requests queued behind it. (SIGTERM draining is covered by server.test.ts and cli.int.test.ts.)

const tiny = useTinyApp({ workers: 1, batchTimeoutMs: 2, maxBatch: 2 }, 120_000);

const predict = (seed: number) => injectImage(tiny.app, makePng(40, 40, gradient(seed)));

describe('faults while serving', () => {
  it('keeps serving from memory when the checkpoint files are overwritten with garbage', async () => {
    const before = (await predict(1)).json();
    await writeFile(path.join(tiny.checkpoint.dir, 'weights.bin'), Buffer.alloc(4096, 0xab));
    await writeFile(path.join(tiny.checkpoint.dir, 'model.json'), '{ not json');
    await writeFile(path.join(tiny.checkpoint.dir, 'curves.svg'), 'garbage');
    const after = await predict(1);
    expect(after.statusCode).toBe(200);
    expect(after.json().predictions).toEqual(before.predictions);
    const model = await tiny.app.inject('/api/model');
    expect(model.statusCode).toBe(200);
    expect(model.json().classes).toHaveLength(5);
    // The asset is read per request: it is the new bytes or a 404, never a crash.
    expect([200, 404]).toContain((await tiny.app.inject('/api/model/assets/curves.svg')).statusCode);
    expect((await tiny.app.inject('/api/health')).statusCode).toBe(200);
  });

  it('fails the batch of a dying worker with 503 WORKER_FAILED; nothing hangs, including queued requests', async () => {
    const pool = tiny.app.classifier.executor as WorkerPool;
    const requests = Array.from({ length: 6 }, (_, seed) => predict(seed));
    const deadline = Date.now() + 10_000;
    while (tiny.app.classifier.batcher.stats().batchesInFlight === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await pool.terminateWorker(0);
    // The replacement reloads the checkpoint from disk, which the previous test broke: it cannot load,
    // so the queued requests must still settle (503), not wait forever.
    const started = Date.now();
    const responses = await Promise.all(requests);
    const statuses = responses.map((response) => response.statusCode);
    process.stdout.write(`after a worker death: ${statuses.join(' ')} in ${Date.now() - started} ms\n`);
    for (const response of responses) {
      expect([200, 503]).toContain(response.statusCode);
      if (response.statusCode === 503) expect(response.headers['retry-after']).toBeDefined();
    }
    expect(statuses).toContain(503);
    // No worker can load the broken checkpoint: later requests fail at once too, not queue forever.
    const later = await predict(9);
    expect(later.statusCode).toBe(503);
    expect(later.json().error.code).toBe('WORKER_FAILED');
    expect((await tiny.app.inject('/api/health')).statusCode).toBe(200);
  }, 60_000);
});
