export type MainToWorker =
  | { type: 'predict'; id: number; batch: Float32Array[] }
  | { type: 'stats'; id: number };

export type WorkerToMain =
  | { type: 'ready'; backend: string }
  /** The model could not load; the worker exits after sending this. */
  | { type: 'fatal'; message: string; code: string | undefined }
  | { type: 'log'; line: string }
  | { type: 'result'; id: number; probabilities: Float32Array[] }
  | { type: 'error'; id: number; message: string }
  | { type: 'stats'; id: number; numTensors: number; numBytes: number };

/**
 * The buffers to transfer (not copy) with `postMessage`; an array that is a view into a larger
 * buffer (a pooled Buffer, a slice) is not transferred, since that would detach its neighbours.
 */
export function transferables(arrays: Float32Array[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const array of arrays) {
    if (
      array.buffer instanceof ArrayBuffer &&
      array.byteOffset === 0 &&
      array.byteLength === array.buffer.byteLength
    ) {
      buffers.add(array.buffer);
    }
  }
  return [...buffers];
}
