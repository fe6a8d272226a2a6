import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useTinyServer } from './helpers/tiny-server.ts';

const tiny = useTinyServer({ workers: 0, requestTimeoutMs: 1000 });

/** Sends `request` bytes as they are and resolves with everything the server sent before closing. */
function exchange(request: string): Promise<string> {
  const { port } = new URL(tiny.server.url);
  return new Promise((resolve, reject) => {
    let reply = '';
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(request));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
    });
    socket.on('error', () => {}); // a reset after the answer: what was sent is what counts
    socket.on('close', () => resolve(reply));
    setTimeout(() => reject(new Error(`socket still open; got ${JSON.stringify(reply)}`)), 10_000).unref();
  });
}

function parse(reply: string): {
  status: number;
  headers: string;
  body: { error?: { code: string; message: string } };
} {
  const [head, body] = reply.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: JSON.parse(body) };
}

describe('errors raised below the routes', () => {
  const cases = [
    {
      name: 'a garbage request line',
      request: '\u0000GARBAGE / HTTP/9.9\r\n\r\n',
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'a 64 KiB header',
      request: `GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
      status: 431,
      code: 'HEADERS_TOO_LARGE',
    },
    {
      name: 'headers that never finish',
      request: 'GET /api/health HTTP/1.1\r\nHost: x\r\n',
      status: 408,
      code: 'REQUEST_TIMEOUT',
    },
    {
      name: 'an undecodable URL',
      request: 'GET /api/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      status: 400,
      code: 'BAD_URL',
    },
    {
      name: 'invalid JSON',
      request:
        'POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{"image":',
      status: 400,
      code: 'INVALID_JSON',
    },
  ];

  it.each(cases)(
    'answers $name with $status { error: { code: $code, message } }',
    async ({ request, status, code }) => {
      const reply = parse(await exchange(request));
      expect(reply.status).toBe(status);
      expect(reply.headers).toContain('content-type: application/json');
      expect(reply.body).toEqual({ error: { code, message: expect.stringMatching(/\. .{10,}/) } });
    },
  );

  it('counts each in http_requests_total', async () => {
    const metrics = (await (await fetch(`${tiny.server.url}/metrics`)).text()).split('\n');
    for (const line of [
      'http_requests_total{method="UNKNOWN",route="unparsed",status="400"} 1',
      'http_requests_total{method="UNKNOWN",route="unparsed",status="431"} 1',
      'http_requests_total{method="UNKNOWN",route="unparsed",status="408"} 1',
      'http_requests_total{method="GET",route="unmatched",status="400"} 1',
      'http_requests_total{method="POST",route="/api/predict",status="400"} 1',
    ]) {
      expect(metrics).toContain(line);
    }
  });
});
