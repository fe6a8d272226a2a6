/** A decode worker thread of ./decode-pool.ts: decodes requests, sends the pixels back by transfer. */
import { parentPort } from 'node:worker_threads';
import { ImageDecodeError } from '@food/core/preprocess/image';
import { type DecodeRequest, decodeSample, SampleReadError } from './decode-sample.ts';

export type DecodeReply =
  | { id: number; pixels: Float32Array }
  | { id: number; error: { kind: 'read' | 'decode' | 'other'; code?: string; message: string } };

parentPort!.on('message', async ({ id, request }: { id: number; request: DecodeRequest }) => {
  try {
    const pixels = await decodeSample(request);
    parentPort!.postMessage({ id, pixels } satisfies DecodeReply, [pixels.buffer as ArrayBuffer]);
  } catch (error) {
    const kind =
      error instanceof SampleReadError ? 'read' : error instanceof ImageDecodeError ? 'decode' : 'other';
    const { code, message } = error as { code?: string; message?: string };
    parentPort!.postMessage({
      id,
      error: { kind, code, message: message ?? String(error) },
    } satisfies DecodeReply);
  }
});
