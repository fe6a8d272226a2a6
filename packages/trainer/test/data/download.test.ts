import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadResumable, extractArchive, findDataRoot } from '../../src/data/download.ts';
import { readFood101Meta } from '../../src/data/food101-meta.ts';
import { synthesizeDataset } from '../../src/data/synth.ts';
import { tempDir } from './temp-dir.ts';

interface ServerControl {
  /** Close the connection after this many body bytes of the next response. */
  cutAfter?: number;
  honourRange: boolean;
  rangeRequests: string[];
}

/** Serves `archive` on 127.0.0.1 like a static file server, optionally cutting a transfer short. */
async function serve(archive: Buffer, control: ServerControl): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    if (request.url !== '/food-101.tar.gz') {
      response.writeHead(404).end('not found');
      return;
    }
    const range = request.headers.range;
    let start = 0;
    if (range) control.rangeRequests.push(range);
    if (range && control.honourRange) {
      start = Number(/^bytes=(\d+)-$/.exec(range)![1]);
      if (start >= archive.length) {
        response.writeHead(416, { 'Content-Range': `bytes */${archive.length}` }).end();
        return;
      }
      response.writeHead(206, {
        'Content-Range': `bytes ${start}-${archive.length - 1}/${archive.length}`,
        'Content-Length': archive.length - start,
      });
    } else {
      response.writeHead(200, { 'Content-Length': archive.length });
    }
    const body = archive.subarray(start);
    if (control.cutAfter !== undefined) {
      const cut = control.cutAfter;
      control.cutAfter = undefined;
      response.write(body.subarray(0, cut), () => setTimeout(() => response.socket?.destroy(), 20));
      return;
    }
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/food-101.tar.gz` };
}

describe('download', () => {
  let root: string;
  let archive: Buffer;
  let sha256: string;
  let server: Server;
  let url: string;
  const control: ServerControl = { honourRange: true, rangeRequests: [] };

  beforeAll(async () => {
    root = await tempDir('download');
    await synthesizeDataset({
      outDir: path.join(root, 'src/food-101'),
      classes: 2,
      imagesPerClass: 4,
      seed: 1,
    });
    const archivePath = path.join(root, 'food-101.tar.gz');
    await tar.c({ gzip: true, file: archivePath, cwd: path.join(root, 'src'), portable: true }, ['food-101']);
    archive = await readFile(archivePath);
    sha256 = createHash('sha256').update(archive).digest('hex');
    ({ server, url } = await serve(archive, control));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const reset = (honourRange = true) => {
    control.honourRange = honourRange;
    control.rangeRequests = [];
  };

  it('downloads, verifies and extracts into a Food-101 folder', async () => {
    reset();
    const out = path.join(root, 'plain');
    const progress: number[] = [];
    const result = await downloadResumable({
      url,
      dest: path.join(out, 'food-101.tar.gz'),
      expectedSha256: sha256,
      onProgress: (done) => progress.push(done),
    });
    expect(result).toMatchObject({ sha256, resumedFrom: 0 });
    expect(progress.at(-1)).toBe(archive.length);
    await extractArchive(result.path, out);
    const dataRoot = await findDataRoot(out);
    expect(dataRoot).toBe(path.join(out, 'food-101'));
    expect((await readFood101Meta(dataRoot!)).train).toHaveLength(6);

    // A second run finds the finished archive and downloads nothing.
    reset();
    const again = await downloadResumable({ url, dest: result.path, expectedSha256: sha256 });
    expect(again.sha256).toBe(sha256);
    expect(control.rangeRequests).toEqual([]);
  });

  it('resumes an interrupted transfer with a Range request', async () => {
    reset();
    const dest = path.join(root, 'resume', 'food-101.tar.gz');
    const half = Math.floor(archive.length / 2);
    control.cutAfter = half;
    await expect(downloadResumable({ url, dest, expectedSha256: sha256 })).rejects.toThrow(
      /interrupted at \d+ of \d+ bytes.*run the same command again to resume/s,
    );
    const kept = (await stat(`${dest}.part`)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(archive.length);

    const result = await downloadResumable({ url, dest, expectedSha256: sha256 });
    expect(control.rangeRequests).toEqual([`bytes=${kept}-`]);
    expect(result.resumedFrom).toBe(kept);
    expect((await readFile(dest)).equals(archive)).toBe(true);
  });

  it('restarts from zero when the server ignores Range (200 instead of 206)', async () => {
    reset(false);
    const dest = path.join(root, 'no-range', 'food-101.tar.gz');
    control.cutAfter = 1000;
    await expect(downloadResumable({ url, dest, expectedSha256: sha256 })).rejects.toThrow(/interrupted/);
    await downloadResumable({ url, dest, expectedSha256: sha256 });
    expect(control.rangeRequests).toHaveLength(1);
    expect((await readFile(dest)).equals(archive)).toBe(true);
  });

  it('accepts a complete .part file when the server answers 416', async () => {
    reset();
    const dest = path.join(root, 'complete-part', 'food-101.tar.gz');
    await mkdir(path.dirname(dest), { recursive: true });
    await writeFile(`${dest}.part`, archive);
    const result = await downloadResumable({ url, dest, expectedSha256: sha256 });
    expect(result.sha256).toBe(sha256);
  });

  it('rejects a checksum mismatch and moves the file aside', async () => {
    reset();
    const dest = path.join(root, 'mismatch', 'food-101.tar.gz');
    await expect(downloadResumable({ url, dest, expectedSha256: 'ab'.repeat(32) })).rejects.toThrow(
      new RegExp(`checksum mismatch .*sha256 is ${sha256}, expected ${'ab'.repeat(32)}`),
    );
    expect((await stat(`${dest}.sha256-mismatch`)).size).toBe(archive.length);
    await expect(stat(`${dest}.part`)).rejects.toThrow(/ENOENT/);
  });

  it('explains an unreachable host and an HTTP error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(
      downloadResumable({
        url: `http://127.0.0.1:${port}/a.tar.gz`,
        dest: path.join(root, 'off', 'a.tar.gz'),
      }),
    ).rejects.toThrow(new RegExp(`could not reach 127.0.0.1:${port}: ECONNREFUSED.*pass --archive FILE`));
    await expect(
      downloadResumable({
        url: url.replace('food-101', 'missing'),
        dest: path.join(root, 'off', 'b.tar.gz'),
      }),
    ).rejects.toThrow(/HTTP 404/);
  });

  it('refuses to extract a truncated archive', async () => {
    const broken = path.join(root, 'broken.tar.gz');
    await writeFile(broken, archive.subarray(0, archive.length >> 1));
    await expect(extractArchive(broken, path.join(root, 'broken'))).rejects.toThrow(/cannot extract/);
  });
});
