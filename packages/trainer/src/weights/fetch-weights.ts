import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '@food/core/errors';
import { type ByteProgress, downloadResumable } from '../data/download.ts';

/** Keras Applications' ResNet-50 notop weights and the md5 keras `applications/resnet.py` pins (WEIGHTS_HASHES). */
export const KERAS_RESNET50_NOTOP_URL =
  'https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5';
export const KERAS_RESNET50_NOTOP_MD5 = '4d473c1dd8becc155b73f8504c6f6626';

const OFFLINE_ALTERNATIVE =
  'Without internet access, import the copy shipped beside the project: ' +
  '`pnpm trainer import-weights --from ../shared/weights/resnet50-imagenet`.';

export async function md5File(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Downloads a weights file into `cacheDir` (resumable with HTTP Range; a finished file is reused) and
 * verifies its md5 when one is known. Returns the local path.
 */
export async function fetchWeightsFile(options: {
  url: string;
  cacheDir: string;
  md5?: string;
  onProgress?: ByteProgress;
}): Promise<{ path: string; sha256: string; md5: string }> {
  const dest = path.join(options.cacheDir, path.basename(new URL(options.url).pathname) || 'weights.h5');
  let sha256: string;
  try {
    ({ sha256 } = await downloadResumable({ url: options.url, dest, onProgress: options.onProgress }));
  } catch (error) {
    const code = (error as UserError).code;
    if (code === 'DOWNLOAD_UNREACHABLE' || code === 'DOWNLOAD_HTTP_ERROR') {
      const why = (error as Error).message.split(';')[0];
      throw new UserError(`could not download ${options.url} (${why}). ${OFFLINE_ALTERNATIVE}`, code);
    }
    throw error;
  }
  const md5 = await md5File(dest);
  const expected = options.md5?.toLowerCase();
  if (expected && md5 !== expected) {
    const bad = `${dest}.md5-mismatch`;
    await rename(dest, bad);
    throw new UserError(
      `${options.url} downloaded with md5 ${md5}, expected ${expected}; the file was moved to ${bad}. ` +
        `Run again to download afresh. ${OFFLINE_ALTERNATIVE}`,
      'CHECKSUM_MISMATCH',
    );
  }
  return { path: dest, sha256, md5 };
}
