import * as tf from '@tensorflow/tfjs';

/**
 * The parts of tfjs-backend-wasm's `BackendWasm` (4.22) that kernels written outside the package
 * need. Declared structurally so this module does not import the wasm package (only
 * `core/backend.ts` does); `asWasmBackend` checks them at run time.
 */
export interface WasmBackend extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
  dataIdMap: {
    get(dataId: object): { id: number; memoryOffset: number; refCount: number } | undefined;
    delete(dataId: object): boolean;
  };
  wasm: { tfjs: { disposeData(id: number): void } };
}

export function asWasmBackend(backend: unknown): WasmBackend {
  const candidate = backend as Partial<WasmBackend>;
  if (
    typeof candidate.makeOutput !== 'function' ||
    typeof candidate.typedArrayFromHeap !== 'function' ||
    candidate.dataIdMap == null ||
    candidate.wasm?.tfjs == null
  ) {
    throw new Error('wasm training kernels: the backend is not a tfjs-backend-wasm 4.x backend');
  }
  return candidate as WasmBackend;
}

/** Runs another kernel registered for the wasm backend directly on TensorInfos (no engine, no tape). */
export function runWasmKernel(
  backend: WasmBackend,
  kernelName: string,
  inputs: Record<string, tf.TensorInfo> | tf.TensorInfo[],
  attrs: Record<string, unknown> = {},
): tf.TensorInfo {
  const kernel = tf.getKernel(kernelName, 'wasm');
  if (kernel == null) {
    throw new Error(`wasm training kernels: kernel ${kernelName} is not registered for wasm`);
  }
  const result = kernel.kernelFunc({
    inputs: inputs as tf.NamedTensorInfoMap,
    attrs: attrs as tf.NamedAttrMap,
    backend,
  });
  if (Array.isArray(result)) {
    throw new Error(`wasm training kernels: ${kernelName} returned several outputs`);
  }
  return result;
}

/**
 * A float32 view of a tensor's data on the wasm heap. Take views only after the last allocation
 * of a step: growing the heap detaches earlier views.
 */
export function heapF32(backend: WasmBackend, info: tf.TensorInfo): Float32Array {
  if (info.dtype !== 'float32') {
    throw new Error(`wasm training kernels: expected float32, got ${info.dtype}`);
  }
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** Allocates an uninitialised float32 tensor on the wasm heap. */
export function allocF32(backend: WasmBackend, shape: number[]): tf.TensorInfo {
  return backend.makeOutput(shape, 'float32');
}

export function disposeAll(backend: WasmBackend, infos: tf.TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/**
 * A tensor that aliases `length` floats of `base`'s memory from `floatOffset` on, so that a kernel
 * such as BatchMatMul reads a shifted window without a copy. Release it with `releaseAlias`,
 * never `disposeData` (which would free memory the alias does not own).
 */
export function aliasF32(
  backend: WasmBackend,
  base: tf.TensorInfo,
  floatOffset: number,
  shape: number[],
): tf.TensorInfo {
  const data = backend.dataIdMap.get(base.dataId);
  if (data == null) throw new Error('wasm training kernels: alias of a disposed tensor');
  return backend.makeOutput(shape, 'float32', data.memoryOffset + floatOffset * 4);
}

export function releaseAlias(backend: WasmBackend, alias: tf.TensorInfo): void {
  const data = backend.dataIdMap.get(alias.dataId);
  if (data == null) return;
  backend.wasm.tfjs.disposeData(data.id);
  backend.dataIdMap.delete(alias.dataId);
}

export function reshapeInfo(backend: WasmBackend, info: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  const reshaped = runWasmKernel(backend, 'Reshape', { x: info }, { shape });
  backend.disposeData(info.dataId);
  return reshaped;
}
