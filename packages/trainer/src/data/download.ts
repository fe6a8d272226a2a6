import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { UserError } from '@food/core/errors';
import * as tar from 'tar';

/** The official Food-101 archive (about 5 GB) and its published checksums (as torchvision pins them). */
export const FOOD101_URL = 'http://data.vision.ee.ethz.ch/cvl/food-101.tar.gz';
export const FOOD101_SHA256 = 'd97d15e438b7f4498f96086a4f7e2fa42a32f2712e87d3295441b2b6314053a4';
export const FOOD101_MD5 = '85eeb15f3717b99a5da872d97d918f87';

export type ByteProgress = (done: number, total: number | undefined) => void;

export interface DownloadOptions {
  url: string;
  /** Final archive path; bytes arrive in `${dest}.part` until complete. */
  dest: string;
  /** Lower-case hex; when given, the archive must match it. */
  expectedSha256?: string;
  onProgress?: ByteProgress;
}

export interface DownloadResult {
  path: string;
  sha256: string;
  /** Bytes already in the .part file when this run started (0: fresh download). */
  resumedFrom: number;
}

export async function sha256File(file: string, onProgress?: ByteProgress): Promise<string> {
  const hash = createHash('sha256');
  const total = (await stat(file)).size;
  let done = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    done += (chunk as Buffer).length;
    onProgress?.(done, total);
  }
  return hash.digest('hex');
}

const fileSize = async (file: string) => (await stat(file).catch(() => undefined))?.size;

function unreachable(url: string, error: unknown): UserError {
  const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
  const why = cause?.code ? `${cause.code} ${cause.message}` : (cause?.message ?? (error as Error).message);
  return new UserError(
    `could not reach ${new URL(url).host}: ${why}; download the archive elsewhere and pass --archive FILE`,
    'DOWNLOAD_UNREACHABLE',
  );
}

/** `bytes START-END/TOTAL` → START and TOTAL (TOTAL undefined for `*`). */
function parseContentRange(header: string | null): { start: number; total?: number } | undefined {
  const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header ?? '');
  if (!match) return undefined;
  return { start: Number(match[1]), total: match[2] === '*' ? undefined : Number(match[2]) };
}

/**
 * Downloads `url` to `dest`, resuming a previous `.part` file with an HTTP Range request. A server that
 * ignores Range answers 200 with the whole body, so the part file is then restarted, not appended to
 * (appending would corrupt it). Verifies sha256 when `expectedSha256` is given.
 */
export async function downloadResumable(options: DownloadOptions): Promise<DownloadResult> {
  const { url, dest, onProgress } = options;
  const expected = options.expectedSha256?.toLowerCase();
  await mkdir(path.dirname(dest), { recursive: true });
  if ((await fileSize(dest)) !== undefined) return verifyExisting(dest, expected, onProgress);

  const part = `${dest}.part`;
  const resumedFrom = (await fileSize(part)) ?? 0;
  let response: Response;
  try {
    response = await fetch(url, { headers: resumedFrom > 0 ? { Range: `bytes=${resumedFrom}-` } : {} });
  } catch (error) {
    throw unreachable(url, error);
  }
  let range: { offset: number; total: number | undefined };
  try {
    range = bytesToFetch(response, url, part, resumedFrom);
  } catch (error) {
    await response.body?.cancel();
    if (response.status === 416) await rm(part, { force: true });
    throw error;
  }
  // Read the body at once (no await in between): bytes that arrived before a dropped connection are kept.
  if (response.status === 416) await response.body?.cancel();
  else if (response.body) {
    const body = response.body as WebReadableStream<Uint8Array>;
    await appendToPart(body, url, part, range.offset, range.total, onProgress);
  }

  const sha256 = await sha256File(part);
  if (expected && sha256 !== expected) {
    // Moved aside rather than deleted or kept as .part: resuming a bad file can never fix it.
    const bad = `${dest}.sha256-mismatch`;
    await rename(part, bad);
    throw new UserError(
      `checksum mismatch for ${url}: sha256 is ${sha256}, expected ${expected}. The file was moved to ${bad}; ` +
        'run again to download afresh, or check --sha256.',
      'CHECKSUM_MISMATCH',
    );
  }
  await rename(part, dest);
  return { path: dest, sha256, resumedFrom };
}

/** A file already downloaded: checked against the expected sha256, never downloaded again. */
async function verifyExisting(
  dest: string,
  expected: string | undefined,
  onProgress: ByteProgress | undefined,
): Promise<DownloadResult> {
  const sha256 = await sha256File(dest, onProgress);
  if (expected && sha256 !== expected) {
    throw new UserError(
      `${dest} exists but its sha256 is ${sha256}, not ${expected}. Delete it and run again to download afresh.`,
      'CHECKSUM_MISMATCH',
    );
  }
  return { path: dest, sha256, resumedFrom: 0 };
}

/**
 * Where the response's body starts in the file (`offset`: the part file's size for a 206 resume, 0 for a
 * full 200 body) and the file's total size when known; throws for a wrong range or an HTTP error (the
 * caller then cancels the body, and removes a part file the server's 416 says is not a prefix).
 */
function bytesToFetch(
  response: Response,
  url: string,
  part: string,
  resumedFrom: number,
): { offset: number; total: number | undefined } {
  const length = response.headers.get('content-length');
  if (response.status === 206) {
    const range = parseContentRange(response.headers.get('content-range'));
    if (range?.start !== resumedFrom) {
      throw new UserError(
        `${url} answered a resume request with the wrong range (${response.headers.get('content-range')}). ` +
          `Delete ${part} and run again to download from the start.`,
        'DOWNLOAD_BAD_RANGE',
      );
    }
    const total = range.total ?? (length === null ? undefined : resumedFrom + Number(length));
    return { offset: resumedFrom, total };
  }
  if (response.status === 416 && resumedFrom > 0) {
    // Nothing left after our offset: the part file is already complete if the sizes agree.
    const range = /^bytes \*\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
    if (!range || Number(range[1]) !== resumedFrom) {
      throw new UserError(
        `${part} does not match ${url} (server refused the resume range); it was removed, run again to restart.`,
        'DOWNLOAD_BAD_RANGE',
      );
    }
    return { offset: resumedFrom, total: resumedFrom };
  }
  if (response.ok) return { offset: 0, total: length === null ? undefined : Number(length) };
  throw new UserError(
    `${url} answered HTTP ${response.status} ${response.statusText}; check the URL, or download the archive ` +
      'elsewhere and pass --archive FILE',
    'DOWNLOAD_HTTP_ERROR',
  );
}

/** Writes `body` into the part file from `offset` on, reporting progress; an interruption keeps the bytes. */
async function appendToPart(
  body: WebReadableStream<Uint8Array>,
  url: string,
  part: string,
  offset: number,
  total: number | undefined,
  onProgress: ByteProgress | undefined,
): Promise<void> {
  let done = offset;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      done += chunk.length;
      onProgress?.(done, total);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.fromWeb(body),
      counter,
      createWriteStream(part, { flags: offset > 0 ? 'a' : 'w' }),
    );
  } catch (error) {
    throw new UserError(
      `download of ${url} was interrupted at ${done} of ${total ?? '?'} bytes (${(error as Error).message}). ` +
        `The bytes so far are kept in ${part}; run the same command again to resume.`,
      'DOWNLOAD_INTERRUPTED',
    );
  }
  if (total !== undefined && done !== total) {
    throw new UserError(
      `download of ${url} ended at ${done} of ${total} bytes; run the same command again to resume.`,
      'DOWNLOAD_INTERRUPTED',
    );
  }
}

/** Extracts a .tar or .tar.gz into `outDir`; `..` and absolute entry paths are refused by `tar`. */
export async function extractArchive(
  archive: string,
  outDir: string,
  onProgress?: ByteProgress,
): Promise<void> {
  const total = await fileSize(archive);
  if (total === undefined) throw new UserError(`archive ${archive} does not exist`, 'ARCHIVE_MISSING');
  await mkdir(outDir, { recursive: true });
  let done = 0;
  try {
    await pipeline(
      createReadStream(archive),
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          done += chunk.length;
          onProgress?.(done, total);
          callback(null, chunk);
        },
      }),
      tar.x({ cwd: outDir, strict: true, preserveOwner: false }),
    );
  } catch (error) {
    throw new UserError(
      `cannot extract ${archive}: ${(error as Error).message}. Is it a complete .tar.gz? Delete it and download again.`,
      'ARCHIVE_INVALID',
    );
  }
}

/** The Food-101 folder (holding meta/classes.txt) inside `outDir`: itself or a direct subfolder. */
export async function findDataRoot(outDir: string): Promise<string | undefined> {
  const candidates = [outDir];
  for (const entry of await readdir(outDir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) candidates.push(path.join(outDir, entry.name));
  }
  for (const candidate of candidates.sort()) {
    if ((await fileSize(path.join(candidate, 'meta', 'classes.txt'))) !== undefined) return candidate;
  }
  return undefined;
}
