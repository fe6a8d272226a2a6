import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { multipartBody } from '@food/core/testing/multipart-body';
import { makeBlankPng, makePng } from '@food/core/testing/synthetic-images';
import { createTinyCheckpoint, TINY_CLASSES, type TinyCheckpoint } from '@food/core/testing/tiny-checkpoint';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { DEFAULTS } from '../../src/config.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { buildCorpus, type CorpusCase, ROTATED_CONTROL } from './corpus.ts';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const MAX_UPLOAD_BYTES = 256 * 1024;
const REQUEST_TIMEOUT_MS = 1500;

let checkpoint: TinyCheckpoint;
let app: FastifyInstance;
let server: RunningServer;
let canary: Server;
let canaryHits = 0;
let canaryUrl: string;
let privateTmp: string;
const realTmp = tmpdir();
const originalTmpdir = process.env.TMPDIR;

/** Status and error code of every response, for the summary table. */
const tally: Array<{ name: string; status: number; code: string }> = [];

beforeAll(async () => {
  // Everything this process (Node, libvips, multipart) would put in a temp folder lands here, so "no
  // new file" is checked exactly here, and by name and content in the shared /tmp and the repo.
  privateTmp = await mkdtemp(path.join(realTmp, 'food-reliability-'));
  process.env.TMPDIR = privateTmp;
  checkpoint = await createTinyCheckpoint({ withAssets: false });
  canary = createServer((_request, response) => {
    canaryHits += 1;
    response.writeHead(200, { 'content-type': 'image/png' }).end(makePng(8, 8));
  });
  await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
  canaryUrl = `http://127.0.0.1:${(canary.address() as { port: number }).port}`;
  const common = {
    checkpoint: checkpoint.dir,
    workers: 0,
    backend: 'cpu' as const,
    maxUploadBytes: MAX_UPLOAD_BYTES,
  };
  app = await buildApp(common);
  server = await startServer({
    ...DEFAULTS,
    ...common,
    port: 0,
    logLevel: 'silent',
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
  });
  await app.classifier.ready;
}, 60_000);

afterAll(async () => {
  await app?.close();
  await server?.close();
  await new Promise((resolve) => canary?.close(resolve));
  await checkpoint?.cleanup();
  if (originalTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = originalTmpdir;
  if (privateTmp) await rm(privateTmp, { recursive: true, force: true });
  printSummary();
});

describe('a corpus of bad and odd uploads (app.inject)', () => {
  it('answers each with a 200 prediction or a 4xx error body, never a 5xx, and writes no file', async () => {
    const corpus = await buildCorpus({
      maxUploadBytes: MAX_UPLOAD_BYTES,
      numClasses: TINY_CLASSES.length,
      canaryUrl,
    });
    expect(corpus.length).toBeGreaterThanOrEqual(40);
    const before = await snapshotFiles();
    const probabilitiesOf = new Map<string, number[]>();
    const failures: string[] = [];
    for (const testCase of corpus) {
      const response = await app.inject({
        method: 'POST',
        url: testCase.url,
        payload: testCase.payload,
        headers: testCase.headers,
      });
      const body = response.json() as ResponseBody;
      tally.push({ name: testCase.name, status: response.statusCode, code: body.error?.code ?? '' });
      const problem = checkResponse(testCase, response.statusCode, body);
      if (problem) failures.push(`${testCase.name}: ${problem}`);
      if (response.statusCode === 200) probabilitiesOf.set(testCase.name, byLabel(body));
      if (testCase.sameAs && response.statusCode === 200) {
        const reference = probabilitiesOf.get(testCase.sameAs) ?? [];
        const diff = Math.max(
          ...reference.map((p, i) => Math.abs(p - (probabilitiesOf.get(testCase.name)?.[i] ?? 0))),
        );
        if (!(diff < 1e-5)) failures.push(`${testCase.name}: differs from ${testCase.sameAs} by ${diff}`);
      }
    }
    expect(failures).toEqual([]);
    // A wrong orientation must change the answer, else the orientation check above proves nothing.
    const upright = probabilitiesOf.get('upright reference (lossless WebP)') ?? [];
    const rotated = probabilitiesOf.get(ROTATED_CONTROL) ?? [];
    expect(rotated).toHaveLength(upright.length);
    expect(upright.some((p, i) => Math.abs(p - rotated[i]) > 1e-5)).toBe(true);

    expect(canaryHits).toBe(0);
    expect(await newFiles(before, corpus)).toEqual([]);
    expect((await app.inject('/api/health')).statusCode).toBe(200);
  }, 120_000);
});

describe('extreme geometries (app.inject)', () => {
  // A 250-byte 1,400,000×1 PNG answered 500 (sharp's resize threw outside the decode-error mapping), and
  // 1,000,000×1 was called "damaged or truncated". Every declared width and height from 1 to 10^8.
  const sides = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];
  const geometries = [...sides.flatMap((width) => sides.map((height) => [width, height])), [1_400_000, 1]];

  it('answers each with 200, or a coded 4xx that names the size (too large, too thin)', async () => {
    const answers: string[] = [];
    for (const [width, height] of geometries) {
      const response = await app.inject({
        method: 'POST',
        url: '/api/predict',
        payload: makeBlankPng(width, height),
        headers: { 'content-type': 'image/png' },
      });
      const { error } = response.json() as ResponseBody;
      tally.push({ name: `${width}×${height} PNG`, status: response.statusCode, code: error?.code ?? '' });
      const named = error === undefined || error.message.includes(`${width}×${height}`);
      answers.push(
        `${width}×${height} ${response.statusCode} ${error?.code ?? 'ok'}${named ? '' : ' (size not named)'}`,
      );
    }
    expect(
      answers.filter((answer) => !/ (200 ok|413 IMAGE_TOO_LARGE|422 IMAGE_TOO_THIN)$/.test(answer)),
    ).toEqual([]);
    const kinds = new Set(answers.map((answer) => answer.split(' ').slice(1).join(' ')));
    expect([...kinds].sort()).toEqual(['200 ok', '413 IMAGE_TOO_LARGE', '422 IMAGE_TOO_THIN']);
    expect(answers).toContain('1400000×1 422 IMAGE_TOO_THIN');
  }, 60_000);
});

describe('socket-level abuse (a real listening server)', () => {
  it('times out a slow-loris upload (headers, then 1 byte/s) and frees the socket', async () => {
    const socket = await open();
    const { payload, headers } = multipartBody([
      { name: 'image', value: makePng(64, 64), filename: 'a.png' },
    ]);
    socket.write(
      `POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: ${headers['content-type']}\r\nContent-Length: ${payload.length}\r\n\r\n`,
    );
    let sent = 0;
    const trickle = setInterval(() => {
      if (!socket.destroyed) socket.write(payload.subarray(sent, ++sent));
    }, 1000);
    const { reply } = await closed(socket, 15_000).finally(() => clearInterval(trickle));
    tally.push({ name: 'slow-loris body', status: statusOf(reply), code: 'socket closed' });
    // The server, not the trickle, ended it: far from all of the body had arrived (no wall-clock assert).
    expect(statusOf(reply)).toBe(408);
    expect(reply).toContain('"code":"REQUEST_TIMEOUT"');
    expect(sent).toBeLessThan(payload.length);
    const metrics = (await (await fetch(`${server.url}/metrics`)).text()).split('\n');
    expect(metrics).toContain('http_requests_total{method="POST",route="/api/predict",status="408"} 1');
  }, 20_000);

  it('times out headers that never finish', async () => {
    const socket = await open();
    socket.write('POST /api/predict HTTP/1.1\r\nHost: x\r\n');
    const trickle = setInterval(() => !socket.destroyed && socket.write('X'), 1000);
    const { reply } = await closed(socket, 15_000).finally(() => clearInterval(trickle));
    tally.push({ name: 'slow-loris headers', status: statusOf(reply), code: 'socket closed' });
    expect(statusOf(reply)).toBe(408);
  }, 20_000);

  it('survives clients that vanish mid-upload, garbage request lines and huge headers', async () => {
    const png = makePng(64, 64);
    for (let i = 0; i < 5; i++) {
      const socket = await open();
      socket.write(
        `POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: ${png.length}\r\n\r\n`,
      );
      socket.write(png.subarray(0, png.length / 2));
      await new Promise((resolve) => setTimeout(resolve, 20));
      socket.destroy();
    }
    tally.push({ name: 'client vanishes mid-upload ×5', status: 0, code: 'no answer expected' });

    const garbage = await open();
    garbage.write('\u0000\u0001GARBAGE / HTTP/9.9\r\n\r\n');
    const garbageReply = (await closed(garbage, 5000)).reply;
    tally.push({ name: 'garbage request line', status: statusOf(garbageReply), code: '' });
    expect(statusOf(garbageReply)).toBe(400);

    const huge = await open();
    huge.write(`GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    const hugeReply = (await closed(huge, 5000)).reply;
    tally.push({ name: '64 KiB header', status: statusOf(hugeReply), code: '' });
    expect(statusOf(hugeReply)).toBe(431);

    // Still healthy, and still classifying.
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    const response = await fetch(`${server.url}/api/predict`, {
      method: 'POST',
      body: new Uint8Array(png),
      headers: { 'content-type': 'image/png' },
    });
    expect(response.status).toBe(200);
  }, 30_000);

  it('does not fetch SVG external references over a real socket either', async () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><image href="${canaryUrl}/real.png" width="9" height="9"/></svg>`;
    const response = await fetch(`${server.url}/api/predict`, {
      method: 'POST',
      body: svg,
      headers: { 'content-type': 'image/svg+xml' },
    });
    expect(response.status).toBe(415);
    expect(((await response.json()) as ResponseBody).error?.code).toBe('IMAGE_UNSUPPORTED');
    expect(canaryHits).toBe(0);
  });
});

interface ResponseBody {
  predictions?: Array<{ label: string; probability: number }>;
  error?: { code: string; message: string };
}

function checkResponse(testCase: CorpusCase, status: number, body: ResponseBody): string | undefined {
  if (status >= 500) return `got ${status} ${JSON.stringify(body)}`;
  if ('codes' in testCase.expect && !(status === 200 && testCase.expect.status.includes(200))) {
    const { status: statuses, codes } = testCase.expect;
    const code = body.error?.code ?? '';
    if (!statuses.includes(status) || !codes.includes(code)) {
      return `expected ${statuses.join('/')} ${codes.join('|')}, got ${status} ${JSON.stringify(body)}`;
    }
    if (!(typeof body.error?.message === 'string' && body.error.message.length > 10)) return 'no message';
    return undefined;
  }
  if (status !== 200) return `expected 200, got ${status} ${JSON.stringify(body)}`;
  const predictions = body.predictions ?? [];
  const expectedLength = /topK=/.test(testCase.name) ? predictions.length : 5;
  if (predictions.length !== expectedLength || predictions.length === 0) return 'wrong number of predictions';
  const total = predictions.reduce((sum, p) => sum + p.probability, 0);
  if (predictions.some((p) => !TINY_CLASSES.includes(p.label) || !(p.probability >= 0))) return 'bad labels';
  if (Math.abs(total - 1) > 1e-4) return `probabilities sum to ${total}`;
  return undefined;
}

/** Probabilities in class order, so two answers compare element by element. */
function byLabel(body: ResponseBody): number[] {
  return TINY_CLASSES.map((label) => body.predictions?.find((p) => p.label === label)?.probability ?? -1);
}

function open(): Promise<Socket> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

/** Resolves with what the server sent once it closes the socket; rejects if it stays open. */
function closed(socket: Socket, timeoutMs: number): Promise<{ reply: string }> {
  return new Promise((resolve, reject) => {
    let reply = '';
    socket.removeAllListeners('error');
    socket.on('error', () => {}); // EPIPE/ECONNRESET while the server closes: the close is what counts
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the socket open for ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ reply });
    });
  });
}

function statusOf(reply: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0);
}

type Snapshot = { tmp: Set<string>; privateTmp: Set<string>; repo: Set<string> };

async function listFiles(root: string, skip = new Set(['node_modules', '.git'])): Promise<Set<string>> {
  const found = new Set<string>();
  const walk = async (dir: string) => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (skip.has(entry.name)) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else found.add(full);
    }
  };
  await walk(root);
  return found;
}

async function snapshotFiles(): Promise<Snapshot> {
  return {
    tmp: await listFiles(realTmp),
    privateTmp: await listFiles(privateTmp),
    repo: await listFiles(repoRoot),
  };
}

/**
 * Files that appeared since `before` and are ours: anything in the private TMPDIR; in the shared /tmp
 * and the repo (where other processes write too), files named like an upload or holding an upload's bytes.
 */
async function newFiles(before: Snapshot, corpus: CorpusCase[]): Promise<string[]> {
  const after = await snapshotFiles();
  const added = (a: Set<string>, b: Set<string>) => [...b].filter((file) => !a.has(file));
  const ours = added(before.privateTmp, after.privateTmp);
  // Payloads of a few bytes (the empty ones) would match unrelated files, such as empty logs.
  const payloadHashes = new Set(
    corpus.flatMap((c) =>
      c.payload === undefined || Buffer.byteLength(c.payload) < 16 ? [] : [sha256(Buffer.from(c.payload))],
    ),
  );
  const suspicious = /passwd|food-corpus|ラーメン|photo\.jpg|^[ab]\.png$|\.svg$/;
  for (const file of [...added(before.tmp, after.tmp), ...added(before.repo, after.repo)]) {
    if (file.startsWith(privateTmp)) continue;
    if (suspicious.test(path.basename(file))) ours.push(file);
    else if (
      ((await stat(file).catch(() => undefined))?.size ?? Number.POSITIVE_INFINITY) <
      2 * MAX_UPLOAD_BYTES
    ) {
      const bytes = await readFile(file).catch(() => undefined);
      if (bytes && payloadHashes.has(sha256(bytes))) ours.push(file);
    }
  }
  return ours;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function printSummary(): void {
  const counts = new Map<string, number>();
  for (const { status, code } of tally) {
    const key = status === 200 ? '200' : `${status} ${code}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const fiveHundreds = tally.filter((t) => t.status >= 500).length;
  const lines = [
    `bad-input corpus: ${tally.length} cases, ${tally.filter((t) => t.status === 200).length} × 200, ` +
      `${tally.filter((t) => t.status >= 400 && t.status < 500).length} × 4xx, ${fiveHundreds} × 5xx`,
    ...[...counts].sort().map(([key, count]) => `  ${String(count).padStart(3)}  ${key}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
