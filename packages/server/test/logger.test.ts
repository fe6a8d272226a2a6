import { PassThrough } from 'node:stream';
import { gradient, makePng } from '@food/core/testing/synthetic-images';
import { createTinyCheckpoint, type TinyCheckpoint } from '@food/core/testing/tiny-checkpoint';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { type LogFormat, loggerOptions, READY_EVENT, resolveLogFormat } from '../src/logger.ts';

/** A destination that keeps what is written, as a terminal (`isTTY`) or a pipe. */
function capture(isTTY: boolean): PassThrough & { isTTY: boolean; lines(): string[] } {
  const stream = Object.assign(new PassThrough(), { isTTY });
  let text = '';
  stream.on('data', (chunk) => {
    text += chunk.toString();
  });
  return Object.assign(stream, { lines: () => text.split('\n').filter((line) => line !== '') });
}

describe('log format', () => {
  it.each([
    ['auto', true, 'pretty'],
    ['auto', false, 'json'],
    ['json', true, 'json'],
    ['pretty', false, 'pretty'],
  ] as const)('%s with isTTY=%s → %s', (format, isTTY, resolved) => {
    expect(resolveLogFormat(format, { isTTY })).toBe(resolved);
  });

  async function logReady(format: LogFormat, isTTY: boolean): Promise<string[]> {
    const destination = capture(isTTY);
    const app = Fastify({ logger: loggerOptions({ level: 'info', format, destination }) });
    app.log.info({ url: 'http://127.0.0.1:5000' }, 'backend: wasm');
    app.log.info(
      { event: READY_EVENT, url: 'http://127.0.0.1:5000' },
      'ready: open http://127.0.0.1:5000 in a browser',
    );
    await app.close();
    return destination.lines();
  }

  it('writes readable lines in a terminal, with the ready line set apart in bold green', async () => {
    const lines = await logReady('auto', true);
    expect(lines.some((line) => line.startsWith('{'))).toBe(false);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\] .*INFO.*: .*backend: wasm/);
    const ready = lines.findIndex((line) => line.includes('ready: open http://127.0.0.1:5000 in a browser'));
    expect(lines[ready]).toContain('\u001b[1m'); // bold
    expect(lines[ready]).toContain('\u001b[32m'); // green
    expect(lines[ready - 1]).toMatch(/INFO/); // on a line of its own, after the level
  });

  it('writes JSON lines to a pipe, and with --log-format json in a terminal', async () => {
    for (const [format, isTTY] of [
      ['auto', false],
      ['json', true],
    ] as const) {
      const lines = await logReady(format, isTTY);
      expect(lines.map((line) => JSON.parse(line).msg)).toEqual([
        'backend: wasm',
        'ready: open http://127.0.0.1:5000 in a browser',
      ]);
    }
  });
});

describe('request lines', () => {
  let checkpoint: TinyCheckpoint;

  beforeAll(async () => {
    checkpoint = await createTinyCheckpoint({ withAssets: false });
  });

  afterAll(async () => {
    await checkpoint?.cleanup();
  });

  async function serve100(level: 'info' | 'debug'): Promise<string[]> {
    const destination = capture(false);
    const app: FastifyInstance = await buildApp({
      checkpoint: checkpoint.dir,
      workers: 0,
      backend: 'cpu',
      logger: loggerOptions({ level, format: 'json', destination }),
    });
    await app.classifier.ready;
    const before = destination.lines().length;
    for (let i = 0; i < 50; i++) {
      await app.inject({
        method: 'POST',
        url: i % 5 === 0 ? '/api/predict?topK=0' : '/api/predict',
        payload: makePng(40, 40, gradient(i)),
        headers: { 'content-type': 'image/png' },
      });
      await app.inject('/api/health');
    }
    await app.close();
    return destination.lines().slice(before);
  }

  it('logs nothing per request at the default level (Fastify logged two lines each)', async () => {
    expect(await serve100('info')).toEqual([]);
  });

  it('warns about shed load (503) once per burst, with a count, not once per request', async () => {
    const destination = capture(false);
    const app = await buildApp({
      checkpoint: checkpoint.dir,
      workers: 0,
      backend: 'cpu',
      logger: loggerOptions({ level: 'info', format: 'json', destination }),
    });
    await app.classifier.ready;
    app.startDraining();
    for (let i = 0; i < 20; i++) expect((await app.inject('/api/health')).statusCode).toBe(503);
    await app.close();
    const warnings = destination.lines().filter((line) => JSON.parse(line).level === 40);
    expect(warnings.map((line) => JSON.parse(line).msg)).toEqual([
      '1 request(s) answered 503 since the last warning; latest: The server is shutting down; retry against another instance or after it restarts.',
    ]);
  });

  it('logs one line per request at debug, plus the reason of each 4xx', async () => {
    const messages = (await serve100('debug')).map((line) => JSON.parse(line).msg as string);
    const requestLines = messages.filter((message) => /^(GET|POST) \/\S* \d{3} \d+ ms$/.test(message));
    expect(requestLines).toHaveLength(100);
    expect(requestLines.filter((line) => line.startsWith('POST /api/predict?topK=0 400'))).toHaveLength(10);
    expect(messages.filter((message) => message.startsWith('topK must be'))).toHaveLength(10);
  });
});
