import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { formatPredictions } from '../../src/client/format-predictions.ts';
import { predictImage, retryDelayMs } from '../../src/client/predict-client.ts';

const OK_BODY = {
  predictions: [
    { label: 'chicken_wings', probability: 0.8734 },
    { label: 'ramen', probability: 0.1 },
  ],
  model: { name: 'run', checkpoint: 'run/best' },
  latencyMs: 12.3,
};

let server: Server | undefined;

/** A stand-in server that answers each request with the next scripted response. */
async function scriptedServer(
  responses: Array<{ status: number; headers?: Record<string, string>; body: unknown }>,
): Promise<{ url: string; requests: () => number }> {
  let count = 0;
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const next = responses[Math.min(count++, responses.length - 1)];
      response.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
      response.end(JSON.stringify(next.body));
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests: () => count };
}

async function stopServer(): Promise<void> {
  const running = server;
  server = undefined;
  if (!running) return;
  running.closeAllConnections(); // fetch keeps connections alive
  await new Promise((resolve) => running.close(resolve));
}

afterEach(stopServer);

const busy = {
  status: 503,
  headers: { 'retry-after': '2' },
  body: { error: { code: 'QUEUE_FULL', message: 'busy' } },
};

describe('predictImage', () => {
  it('retries a 503, waiting what Retry-After says, then returns the answer', async () => {
    const { url, requests } = await scriptedServer([busy, { status: 200, body: OK_BODY }]);
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
    };
    const response = await predictImage(new Uint8Array([1, 2, 3]), 'a.jpg', { url, sleep });
    expect(response).toEqual(OK_BODY);
    expect(requests()).toBe(2);
    expect(waits).toEqual([2000]);
  });

  it('gives up after the bounded number of retries with the server’s message', async () => {
    const { url, requests } = await scriptedServer([busy]);
    const sleep = async () => {};
    await expect(predictImage(new Uint8Array([1]), 'a.jpg', { url, retries: 2, sleep })).rejects.toThrow(
      'a.jpg: server answered 503 QUEUE_FULL: busy (after 2 retries)',
    );
    expect(requests()).toBe(3);
  });

  it('caps a long Retry-After at maxRetryDelayMs', async () => {
    const slow = { ...busy, headers: { 'retry-after': '3600' } };
    const { url } = await scriptedServer([slow, { status: 200, body: OK_BODY }]);
    const waits: number[] = [];
    await predictImage(new Uint8Array([1]), 'a.jpg', {
      url,
      maxRetryDelayMs: 5000,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    expect(waits).toEqual([5000]);
  });

  it('does not retry a 4xx and reports the server’s code and message', async () => {
    const { url, requests } = await scriptedServer([
      { status: 415, body: { error: { code: 'IMAGE_UNSUPPORTED', message: 'Re-export as JPEG.' } } },
    ]);
    await expect(predictImage(new Uint8Array([1]), 'x.svg', { url })).rejects.toMatchObject({
      status: 415,
      code: 'IMAGE_UNSUPPORTED',
      message: 'x.svg: server answered 415 IMAGE_UNSUPPORTED: Re-export as JPEG.',
    });
    expect(requests()).toBe(1);
  });

  it('says how to start a server when nothing listens at the URL', async () => {
    const { url } = await scriptedServer([{ status: 200, body: OK_BODY }]);
    await stopServer();
    await expect(predictImage(new Uint8Array([1]), 'a.jpg', { url })).rejects.toMatchObject({
      code: 'SERVER_UNREACHABLE',
      message: expect.stringMatching(
        /^no server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\); start one with `pnpm serve --checkpoint/,
      ),
    });
  });
});

describe('retryDelayMs', () => {
  it('reads seconds and HTTP dates and falls back to one second', () => {
    expect(retryDelayMs('3')).toBe(3000);
    expect(retryDelayMs(null)).toBe(1000);
    expect(retryDelayMs('soon')).toBe(1000);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryDelayMs('Wed, 01 Jan 2025 00:00:04 GMT', now)).toBe(4000);
  });
});

describe('formatPredictions', () => {
  it('prints readable labels, percentages and bars', () => {
    expect(formatPredictions('photo.jpg', OK_BODY)).toBe(
      [
        'photo.jpg  (12.3 ms, run/best)',
        `  1. Chicken wings  87.3% ${'█'.repeat(17)}`,
        `  2. Ramen          10.0% ${'█'.repeat(2)}`,
      ].join('\n'),
    );
  });
});
