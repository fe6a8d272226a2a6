import * as tf from '@tensorflow/tfjs';
import { asWasmBackend, type WasmBackend } from './wasm-heap.ts';

/**
 * Faster wasm versions of kernels that dominate a training step's BatchNorm gradient once the
 * convolutions are fast. tfjs-core's FusedBatchNorm gradient tiles a [C] vector to the full
 * activation shape and sums over N, H, W; wasm's Sum/Mean first transpose the whole activation
 * (reduced axes must be innermost) and its Tile computes every index, together more than the
 * convolutions' time. Each kernel handles the common case itself and hands the rest to wasm's own
 * kernel (`original`).
 */

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Shares the data (immutable, reference counted), as the cpu backend does, instead of copying it. */
export function identityWasm(original: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return original(args);
    asWasmBackend(args.backend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  };
}

/**
 * Reduction over leading axes (N, H, W of NHWC: the per-channel sums of a BatchNorm gradient) as one
 * streaming pass with float64 accumulators; other reductions go to `original`.
 */
export function leadingAxesReduction(kind: 'sum' | 'mean', original: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = axes.every((a, i) => a === i);
    const size = tf.util.sizeFromShape(x.shape);
    if (x.dtype !== 'float32' || !leading || axes.length === 0 || size === 0) return original(args);

    const backend = asWasmBackend(args.backend);
    const keptShape = x.shape.slice(axes.length);
    const columns = tf.util.sizeFromShape(keptShape);
    const rows = size / columns;
    const outShape = keepDims ? [...axes.map(() => 1), ...keptShape] : keptShape;
    const out = backend.makeOutput(outShape, 'float32');
    const values = backend.typedArrayFromHeap(x) as Float32Array;
    const result = backend.typedArrayFromHeap(out) as Float32Array;
    const acc = new Float64Array(columns);
    // Four rows per pass: a quarter of the accumulator loads and stores.
    let r = 0;
    for (; r + 4 <= rows; r += 4) {
      const o = r * columns;
      for (let c = 0; c < columns; c++) {
        acc[c] +=
          values[o + c] + values[o + columns + c] + values[o + 2 * columns + c] + values[o + 3 * columns + c];
      }
    }
    for (; r < rows; r++) {
      const o = r * columns;
      for (let c = 0; c < columns; c++) acc[c] += values[o + c];
    }
    const scale = kind === 'mean' ? 1 / rows : 1;
    for (let c = 0; c < columns; c++) result[c] = acc[c] * scale;
    return out;
  };
}

/**
 * Tile by block copies: place x's innermost rows, then for each axis from the innermost out repeat
 * the finished block `reps[d]` times with copyWithin (a memmove), so a [1, 1, 1, C] → [N, H, W, C]
 * tile costs N + H + W copies instead of one index computation per element.
 */
export function tileWasm(original: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const x = args.inputs.x as tf.TensorInfo;
    const reps = (args.attrs as { reps: number[] }).reps;
    if (x.dtype === 'string' || x.shape.length === 0) return original(args);
    const backend = asWasmBackend(args.backend);
    const rank = x.shape.length;
    const outShape = x.shape.map((s, i) => s * reps[i]);
    const out = backend.makeOutput(outShape, x.dtype);
    if (tf.util.sizeFromShape(outShape) === 0) return out;
    writeTile(backend, x, out, reps, rank);
    return out;
  };
}

function writeTile(
  backend: WasmBackend,
  x: tf.TensorInfo,
  out: tf.TensorInfo,
  reps: number[],
  rank: number,
): void {
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const shape = x.shape;
  // outInner[d]: output elements per index of axis d (product of output dims after d).
  const outInner = new Array<number>(rank);
  outInner[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) outInner[d] = outInner[d + 1] * shape[d + 1] * reps[d + 1];

  // Output offset of x's index (i_0 .. i_{d-1}, 0, ...) for every index over the first d axes.
  const blockStarts = (d: number): number[] => {
    let starts = [0];
    for (let k = 0; k < d; k++) {
      const next: number[] = [];
      for (const base of starts) for (let i = 0; i < shape[k]; i++) next.push(base + i * outInner[k]);
      starts = next;
    }
    return starts;
  };

  const rowLength = shape[rank - 1];
  blockStarts(rank - 1).forEach((start, row) => {
    dst.set(src.subarray(row * rowLength, (row + 1) * rowLength), start);
  });
  for (let d = rank - 1; d >= 0; d--) {
    if (reps[d] === 1) continue;
    const chunk = shape[d] * outInner[d];
    for (const start of blockStarts(d)) {
      // Doubling: each copy repeats everything written so far.
      let filled = 1;
      while (filled < reps[d]) {
        const count = Math.min(filled, reps[d] - filled);
        dst.copyWithin(start + filled * chunk, start, start + count * chunk);
        filled += count;
      }
    }
  }
}
