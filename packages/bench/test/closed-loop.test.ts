import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedLoopLatency, parseServerTiming } from '../src/closed-loop.ts';

describe('closedLoopLatency', () => {
  // Like Werkzeug's development server: every answer closes its connection; every other one is a 503.
  let answered = 0;
  const server = createServer((request, response) => {
    request.resume().on('end', () => {
      answered += 1;
      response
        .writeHead(answered % 2 === 0 ? 503 : 200, {
          connection: 'close',
          'server-timing': `preprocess;dur=${answered}, run;dur=10;desc="batch of ${answered % 4 === 1 ? 1 : 3}"`,
        })
        .end('{}');
    });
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/predict`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('keeps sending through closed connections and times only the 200s', async () => {
    const request = { payload: Buffer.from('photo'), headers: { 'content-type': 'image/png' } };
    const latency = await closedLoopLatency(url, request, 2, 0.3);
    expect(answered).toBeGreaterThan(2);
    expect(latency.connections).toBe(2);
    expect(latency.rps).toBeGreaterThan(0);
    // Half the answers are 503s: requests/s counts 200s only, so it is at most half the answers' rate.
    expect(latency.rps * 0.3).toBeLessThanOrEqual(Math.ceil(answered / 2) + 1);
    expect(latency.p50).toBeLessThanOrEqual(latency.p99);
    // The 200s are the odd answers: preprocess averages odd numbers; batches of 1 and 3 alternate.
    expect(latency.stages.run).toBe(10);
    expect(latency.stages.preprocess).toBeGreaterThanOrEqual(1);
    expect(latency.stages.batch).toBeGreaterThanOrEqual(1);
    expect(latency.stages.batch).toBeLessThanOrEqual(3);
  });

  it('goes on past its seconds until a slow server has given the answers asked for', async () => {
    const slow = createServer((request, response) => {
      request.resume().on('end', () => setTimeout(() => response.writeHead(200).end('{}'), 60));
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const slowUrl = `http://127.0.0.1:${(slow.address() as { port: number }).port}/`;
      const request = { payload: Buffer.from('photo'), headers: { 'content-type': 'image/png' } };
      const latency = await closedLoopLatency(slowUrl, request, 1, 0.01, 4);
      // 1 client, 60 ms per answer: 0.01 s alone gives 1 answer.
      expect(latency.answers).toBe(4);
      expect(latency.p50).toBeGreaterThanOrEqual(55);
    } finally {
      await new Promise((resolve) => slow.close(resolve));
    }
  });

  it('reads Server-Timing entries, with the batch size from the description', () => {
    expect(parseServerTiming('preprocess;dur=1.5, queue;dur=0.2, run;dur=20.1;desc="batch of 2"')).toEqual({
      preprocess: 1.5,
      queue: 0.2,
      run: 20.1,
      batch: 2,
    });
    expect(parseServerTiming(null)).toEqual({});
  });
});
