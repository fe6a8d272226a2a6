import * as tf from '@tensorflow/tfjs';
import {
  aliasF32,
  allocF32,
  asWasmBackend,
  disposeAll,
  heapF32,
  releaseAlias,
  reshapeInfo,
  runWasmKernel,
  type WasmBackend,
} from './wasm-heap.ts';

/**
 * Conv2D gradients for the wasm backend, expressed as XNNPACK GEMMs/convolutions plus JS loops
 * that only move data. tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter, its
 * Conv2DBackpropInput is a scalar loop, and its Slice/Concat/Transpose are slow for these shapes,
 * so every layout change below is one pass over the data written in plain JS.
 *
 * Notation: x [N, H, W, Cin], filter [KH, KW, Cin, Cout], dy [N, OH, OW, Cout], stride s.
 */

interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
}

type PadAttr = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

interface ConvAttrs {
  strides: number | [number, number];
  pad: PadAttr;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | [number, number];
}

function convGeometry(
  xShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
  kernelName: string,
): ConvGeometry {
  if (attrs.dataFormat === 'NCHW') {
    throw new Error(`${kernelName} on wasm supports only NHWC (channels last) data`);
  }
  const dilations = attrs.dilations ?? 1;
  if (dilations !== 1 && !(Array.isArray(dilations) && dilations.every((d) => d === 1))) {
    throw new Error(`${kernelName} on wasm supports only dilation 1`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kH: info.filterHeight,
    kW: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/** What tfjs passes a kernel function (tf.KernelFunc's argument, with the wasm backend untyped). */
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/**
 * dW[kh, kw, ci, co] = Σ_{n,oh,ow} x[n, s·oh + kh − pt, s·ow + kw − pl, ci] · dy[n, oh, ow, co].
 *
 * Split the padded input into s×s phase images P_rc[n, i, j] = xpad[n, s·i + r, s·j + c]; tap
 * (kh, kw) = (s·a + r, s·b + c) then reads P_rc at (oh + a, ow + b), a stride-1 shift. Store each
 * phase transposed and flattened, Pᵀ [Cin, M] with M = N·Hq·Wq, and pad dy with zeros to
 * dyq [M, Cout] on the same Hq×Wq grid. A shift by (a, b) is then a shift of the flat index by
 * a·Wq + b, so each tap is one GEMM  dW[kh, kw] = Pᵀ(shifted view) · dyq  that reads the phase
 * buffer through an alias at an offset: no im2col copy. Reads that run past a row (into the next
 * channel or the zeroed tail) only ever meet the zero padding of dyq. All taps share dyq as the
 * GEMM weights, so XNNPACK packs it once (its operator cache is keyed on that tensor).
 */
export function conv2DBackpropFilterWasm(args: KernelArgs): tf.TensorInfo {
  const backend = asWasmBackend(args.backend);
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
  const g = convGeometry(x.shape, attrs.filterShape, attrs, 'Conv2DBackpropFilter');

  const shiftH = Math.floor((g.kH - 1) / g.strideH);
  const shiftW = Math.floor((g.kW - 1) / g.strideW);
  const gridH = g.outH + shiftH;
  const gridW = g.outW + shiftW;
  const gridSize = g.batch * gridH * gridW;
  const phaseCount = g.strideH * g.strideW;
  const tail = shiftH * gridW + shiftW;

  const phases = allocF32(backend, [phaseCount * g.inC * gridSize + tail]);
  const dyq = shiftH === 0 && shiftW === 0 ? null : allocF32(backend, [gridSize, g.outC]);
  writeTransposedPhases(heapF32(backend, x), heapF32(backend, phases), g, gridH, gridW);
  heapF32(backend, phases).fill(0, phaseCount * g.inC * gridSize);
  if (dyq != null) padBottomRight(heapF32(backend, dy), heapF32(backend, dyq), g, gridH, gridW);
  // Without a shift dy itself is the GEMM weights. Read it through an alias: XNNPACK caches the
  // packed weights under the tensor id, and the alias's cache entry dies with the alias.
  const weights = dyq ?? aliasF32(backend, dy, 0, [gridSize, g.outC]);

  const taps: tf.TensorInfo[] = [];
  for (let kh = 0; kh < g.kH; kh++) {
    for (let kw = 0; kw < g.kW; kw++) {
      const phase = (kh % g.strideH) * g.strideW + (kw % g.strideW);
      const shift = Math.floor(kh / g.strideH) * gridW + Math.floor(kw / g.strideW);
      const view = aliasF32(backend, phases, phase * g.inC * gridSize + shift, [g.inC, gridSize]);
      taps.push(
        runWasmKernel(
          backend,
          'BatchMatMul',
          { a: view, b: weights },
          { transposeA: false, transposeB: false },
        ),
      );
      releaseAlias(backend, view);
    }
  }
  backend.disposeData(phases.dataId);
  if (dyq == null) releaseAlias(backend, weights);
  else backend.disposeData(dyq.dataId);
  if (taps.length === 1) return reshapeInfo(backend, taps[0], attrs.filterShape);
  const flat = taps.map((tap) => reshapeInfo(backend, tap, [g.inC, g.outC]));
  const stacked = runWasmKernel(backend, 'Concat', flat, { axis: 0 });
  disposeAll(backend, flat);
  return reshapeInfo(backend, stacked, attrs.filterShape);
}

/**
 * dx = transposed convolution of dy. 1×1 without padding: one 1×1 conv with the transposed filter,
 * then (stride > 1) scatter onto the stride grid. Stride 1: a conv of dy, padded by k − 1 − pad
 * (passed to XNNPACK, not copied), with the spatially flipped, in/out-swapped filter. Anything
 * else (strided k×k, padding larger than the kernel): GEMM + col2im.
 */
export function conv2DBackpropInputWasm(args: KernelArgs): tf.TensorInfo {
  const backend = asWasmBackend(args.backend);
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
  const g = convGeometry(attrs.inputShape, filter.shape, attrs, 'Conv2DBackpropInput');

  const flipped = allocF32(backend, [g.kH, g.kW, g.outC, g.inC]);
  writeFlippedSwappedFilter(heapF32(backend, filter), heapF32(backend, flipped), g);

  const pointwise = g.kH === 1 && g.kW === 1 && g.padTop === 0 && g.padLeft === 0;
  if (pointwise) {
    const y = runWasmKernel(backend, 'Conv2D', { x: dy, filter: flipped }, convAttrs('valid'));
    backend.disposeData(flipped.dataId);
    if (g.strideH === 1 && g.strideW === 1 && g.outH === g.inH && g.outW === g.inW) return y;
    const dx = allocF32(backend, [g.batch, g.inH, g.inW, g.inC]);
    scatterToStrideGrid(heapF32(backend, y), heapF32(backend, dx), g);
    backend.disposeData(y.dataId);
    return dx;
  }

  const top = g.kH - 1 - g.padTop;
  const left = g.kW - 1 - g.padLeft;
  const bottom = g.inH + g.kH - 1 - top - ((g.outH - 1) * g.strideH + 1);
  const right = g.inW + g.kW - 1 - left - ((g.outW - 1) * g.strideW + 1);
  if (g.strideH === 1 && g.strideW === 1 && Math.min(top, left, bottom, right) >= 0) {
    const pad: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ];
    const dx = runWasmKernel(backend, 'Conv2D', { x: dy, filter: flipped }, convAttrs(pad));
    backend.disposeData(flipped.dataId);
    return dx;
  }
  backend.disposeData(flipped.dataId);
  return conv2DBackpropInputCol2Im(backend, dy, filter, g);
}

/**
 * dx by GEMM + col2im: cols = dy [M, Cout] · Wᵀ [Cout, KH·KW·Cin], then each row of cols is added
 * into the KH×KW window of dx it came from. Used for strided k×k convolutions (the 7×7/2 stem):
 * a conv over zero-dilated dy would spend s² times the FLOPs, with Cin (3 for the stem) output
 * channels that XNNPACK cannot vectorise well.
 */
function conv2DBackpropInputCol2Im(
  backend: WasmBackend,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  g: ConvGeometry,
): tf.TensorInfo {
  const taps = g.kH * g.kW * g.inC;
  const filterT = allocF32(backend, [g.outC, taps]);
  writeTransposed2d(heapF32(backend, filter), heapF32(backend, filterT), taps, g.outC);
  const dyRows = runWasmKernel(backend, 'Reshape', { x: dy }, { shape: [g.batch * g.outH * g.outW, g.outC] });
  const cols = runWasmKernel(
    backend,
    'BatchMatMul',
    { a: dyRows, b: filterT },
    { transposeA: false, transposeB: false },
  );
  disposeAll(backend, [dyRows, filterT]);
  const dx = allocF32(backend, [g.batch, g.inH, g.inW, g.inC]);
  addColumnsToImage(heapF32(backend, cols), heapF32(backend, dx), g);
  backend.disposeData(cols.dataId);
  return dx;
}

function convAttrs(pad: PadAttr): Record<string, unknown> {
  return { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined };
}

/**
 * phases[r·s + c][ci][n·Hq·Wq + i·Wq + j] = x[n, s·i + r − pt, s·j + c − pl, ci], zero outside x.
 * Walks x in memory order and writes Cin rows in step, which keeps the working set at one cache
 * line per channel.
 */
function writeTransposedPhases(
  x: Float32Array,
  out: Float32Array,
  g: ConvGeometry,
  gridH: number,
  gridW: number,
): void {
  const gridSize = g.batch * gridH * gridW;
  const channels = g.inC;
  for (let r = 0; r < g.strideH; r++) {
    for (let c = 0; c < g.strideW; c++) {
      const phaseBase = (r * g.strideW + c) * channels * gridSize;
      for (let n = 0; n < g.batch; n++) {
        for (let i = 0; i < gridH; i++) {
          const xh = g.strideH * i + r - g.padTop;
          const rowInside = xh >= 0 && xh < g.inH;
          const qRow = (n * gridH + i) * gridW;
          for (let j = 0; j < gridW; j++) {
            const xw = g.strideW * j + c - g.padLeft;
            let dst = phaseBase + qRow + j;
            if (rowInside && xw >= 0 && xw < g.inW) {
              let src = ((n * g.inH + xh) * g.inW + xw) * channels;
              for (let ci = 0; ci < channels; ci++, dst += gridSize) out[dst] = x[src++];
            } else {
              for (let ci = 0; ci < channels; ci++, dst += gridSize) out[dst] = 0;
            }
          }
        }
      }
    }
  }
}

/** out[n, i, j, :] = dy[n, i, j, :] for i < OH, j < OW, zero on the rest of the Hq×Wq grid. */
function padBottomRight(
  dy: Float32Array,
  out: Float32Array,
  g: ConvGeometry,
  gridH: number,
  gridW: number,
): void {
  const rowLen = g.outW * g.outC;
  const gridRowLen = gridW * g.outC;
  out.fill(0);
  for (let n = 0; n < g.batch; n++) {
    for (let i = 0; i < g.outH; i++) {
      const src = (n * g.outH + i) * rowLen;
      out.set(dy.subarray(src, src + rowLen), (n * gridH + i) * gridRowLen);
    }
  }
}

/** flipped[kh, kw, co, ci] = filter[KH − 1 − kh, KW − 1 − kw, ci, co]. */
function writeFlippedSwappedFilter(filter: Float32Array, out: Float32Array, g: ConvGeometry): void {
  const plane = g.inC * g.outC;
  for (let kh = 0; kh < g.kH; kh++) {
    for (let kw = 0; kw < g.kW; kw++) {
      const src = ((g.kH - 1 - kh) * g.kW + (g.kW - 1 - kw)) * plane;
      const dst = (kh * g.kW + kw) * plane;
      for (let ci = 0; ci < g.inC; ci++) {
        let s = src + ci * g.outC;
        let d = dst + ci;
        for (let co = 0; co < g.outC; co++, d += g.inC) out[d] = filter[s++];
      }
    }
  }
}

/** dx[n, s·i, s·j, :] = y[n, i, j, :], zero elsewhere (1×1 convolution with stride s). */
function scatterToStrideGrid(y: Float32Array, dx: Float32Array, g: ConvGeometry): void {
  dx.fill(0);
  const channels = g.inC;
  for (let n = 0; n < g.batch; n++) {
    for (let i = 0; i < g.outH; i++) {
      const xh = i * g.strideH;
      if (xh >= g.inH) continue;
      for (let j = 0; j < g.outW; j++) {
        const xw = j * g.strideW;
        if (xw >= g.inW) continue;
        const src = ((n * g.outH + i) * g.outW + j) * channels;
        dx.set(y.subarray(src, src + channels), ((n * g.inH + xh) * g.inW + xw) * channels);
      }
    }
  }
}

/** out[c, r] = x[r, c] for x [rows, columns]. */
function writeTransposed2d(x: Float32Array, out: Float32Array, rows: number, columns: number): void {
  for (let r = 0; r < rows; r++) {
    let d = r;
    const src = r * columns;
    for (let c = 0; c < columns; c++, d += rows) out[d] = x[src + c];
  }
}

/** dx[n, s·oh + kh − pt, s·ow + kw − pl, :] += cols[n, oh, ow, kh, kw, :] (inside dx only). */
function addColumnsToImage(cols: Float32Array, dx: Float32Array, g: ConvGeometry): void {
  dx.fill(0);
  const channels = g.inC;
  let src = 0;
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        for (let kh = 0; kh < g.kH; kh++) {
          const h = oh * g.strideH + kh - g.padTop;
          if (h < 0 || h >= g.inH) {
            src += g.kW * channels;
            continue;
          }
          for (let kw = 0; kw < g.kW; kw++, src += channels) {
            const w = ow * g.strideW + kw - g.padLeft;
            if (w < 0 || w >= g.inW) continue;
            let dst = ((n * g.inH + h) * g.inW + w) * channels;
            for (let ci = 0; ci < channels; ci++) dx[dst++] += cols[src + ci];
          }
        }
      }
    }
  }
}

export type { WasmBackend };
