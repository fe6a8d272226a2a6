import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchWeightsFile, KERAS_RESNET50_NOTOP_MD5 } from '../../src/weights/fetch-weights.ts';

const body = Buffer.from('\x89HDF\r\n\x1a\n fake weights '.repeat(100));
const md5 = createHash('md5').update(body).digest('hex');
let server: Server;
let base: string;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'fetch-weights-'));
  server = createServer((_request, response) => {
    response.writeHead(200, { 'content-length': body.length });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('fetchWeightsFile', () => {
  it('pins the md5 keras applications/resnet.py publishes for resnet50 notop', () => {
    expect(KERAS_RESNET50_NOTOP_MD5).toBe('4d473c1dd8becc155b73f8504c6f6626');
  });

  it('downloads into the cache and verifies the md5', async () => {
    const result = await fetchWeightsFile({ url: `${base}/w/good.h5`, cacheDir: dir, md5 });
    expect(result.path).toBe(path.join(dir, 'good.h5'));
    expect(readFileSync(result.path).equals(body)).toBe(true);
    expect(result.md5).toBe(md5);
  });

  it('moves a file with the wrong md5 aside and says what to do', async () => {
    const attempt = fetchWeightsFile({ url: `${base}/w/bad.h5`, cacheDir: dir, md5: '0'.repeat(32) });
    await expect(attempt).rejects.toThrowError(
      /md5 .* expected 0{32}.*--from \.\.\/shared\/weights\/resnet50-imagenet/s,
    );
    expect(existsSync(path.join(dir, 'bad.h5'))).toBe(false);
    expect(existsSync(path.join(dir, 'bad.h5.md5-mismatch'))).toBe(true);
  });

  it('offline: names the shared copy as the alternative', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const attempt = fetchWeightsFile({ url: `http://127.0.0.1:${port}/x.h5`, cacheDir: dir });
    await expect(attempt).rejects.toThrowError(
      /could not download .*ECONNREFUSED.*--from \.\.\/shared\/weights/s,
    );
  });
});
