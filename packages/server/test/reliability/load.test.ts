import { gradient, makePng } from '@food/core/testing/synthetic-images';
import { describe, expect, it } from 'vitest';
import { useTinyServer } from '../helpers/tiny-server.ts';

// A short, bounded form of `pnpm bench:serve`: more clients than the server can take, for 3 s. Load is
// shed with 503 + Retry-After, never a 5xx of another kind, a dropped connection or a hang, and the
// worker's tensor count does not move.
const tiny = useTinyServer({ workers: 1, maxBatch: 4, maxQueue: 4 }, 120_000);

async function workerTensors(): Promise<number> {
  const stats = (await (await fetch(`${tiny.server.url}/api/stats`)).json()) as {
    slots: Array<{ numTensors: number }>;
  };
  return stats.slots[0].numTensors;
}

describe('overload', () => {
  it('answers only 200 or 503 with Retry-After, and keeps numTensors stable', async () => {
    const image = new Uint8Array(makePng(64, 48, gradient(2)));
    const post = () =>
      fetch(`${tiny.server.url}/api/predict`, {
        method: 'POST',
        body: image,
        headers: { 'content-type': 'image/png' },
      });
    await Promise.all([post(), post()]);
    const tensorsBefore = await workerTensors();
    expect(tensorsBefore).toBeGreaterThan(0);

    const statuses = new Map<string, number>();
    const count = (key: string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);
    const deadline = Date.now() + 3000;
    // 24 closed-loop clients against a queue of 4: most of the time the queue is full.
    await Promise.all(
      Array.from({ length: 24 }, async () => {
        while (Date.now() < deadline) {
          const response = await post().catch((error: Error) => error);
          if (response instanceof Error) {
            count(`network error ${response.message}`);
            continue;
          }
          const body = (await response.json()) as { error?: { code: string } };
          if (response.status === 503) {
            count(`503 ${body.error?.code} retry-after=${response.headers.get('retry-after')}`);
          } else {
            count(String(response.status));
          }
        }
      }),
    );
    process.stdout.write(`3 s overload: ${JSON.stringify(Object.fromEntries(statuses))}\n`);
    expect([...statuses.keys()].sort()).toEqual(['200', '503 QUEUE_FULL retry-after=1']);
    expect(statuses.get('200')).toBeGreaterThan(10);
    expect(await workerTensors()).toBe(tensorsBefore);
    expect((await fetch(`${tiny.server.url}/api/health`)).status).toBe(200);
  }, 60_000);
});
