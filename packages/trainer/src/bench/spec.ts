/**
 * What one measurement is (sent to a child process as JSON) and what it gives back. Each measurement
 * runs in its own process, so a wasm abort (4 GiB heap exhausted) becomes an "out of memory" row
 * instead of killing the whole bench.
 */

/** The network measured: ResNet-50 at 224 for real numbers, a tiny one for `--quick`. */
export interface ModelShape {
  inputSize: number;
  numClasses: number;
  widthMultiplier: number;
  blocksPerStage: [number, number, number, number];
}

export const RESNET50_224: ModelShape = {
  inputSize: 224,
  numClasses: 50,
  widthMultiplier: 1,
  blocksPerStage: [3, 4, 6, 3],
};

export const TINY_MODEL: ModelShape = {
  inputSize: 64,
  numClasses: 5,
  widthMultiplier: 1 / 16,
  blocksPerStage: [1, 1, 1, 1],
};

export type TfjsBackend = 'wasm' | 'cpu' | 'tensorflow';
export type ThroughputEngine = 'tfjs-wasm' | 'onnx-fp32' | 'onnx-int8';
export type PreprocessMode = 'preprocess' | 'augment' | 'loader';

export type MeasurementSpec =
  /** Inference through the tfjs engine, one batch per run; result in ms per image. */
  | { kind: 'forward'; backend: TfjsBackend; batch: number; runs: number; model: ModelShape }
  /** The real `trainStep` (AdamL2, all layers trainable); result in ms per image. */
  | { kind: 'train'; backend: TfjsBackend; batch: number; runs: number; model: ModelShape }
  /** Images per second with all cores: `workers` wasm instances, or one ONNX session with N threads. */
  | {
      kind: 'throughput';
      engine: ThroughputEngine;
      workers: number;
      batch: number;
      imagesPerRun: number;
      runs: number;
      model: ModelShape;
      /** JPEGs used to calibrate the int8 model (random inputs when empty). */
      calibrationImages: string[];
    }
  /** Images per second through preprocessing, on real JPEGs. */
  | { kind: 'preprocess'; mode: PreprocessMode; files: string[]; dataRoot: string; runs: number };

/** Marks the child's result line on stdout. */
export const RESULT_PREFIX = 'RESULT ';

export type Unit = 'ms/image' | 'images/s';

export type MeasurementResult =
  | { status: 'ok'; unit: Unit; samples: number[]; detail?: string }
  /** `oom`: the process ran out of memory (wasm heap or JS heap); `unavailable`: cannot run here. */
  | { status: 'oom' | 'failed' | 'timeout' | 'unavailable'; reason: string };

export function unitOf(spec: MeasurementSpec): Unit {
  return spec.kind === 'forward' || spec.kind === 'train' ? 'ms/image' : 'images/s';
}

/** A short human label for progress lines and error messages. */
export function describeSpec(spec: MeasurementSpec): string {
  switch (spec.kind) {
    case 'forward':
      return `${spec.backend} forward, batch ${spec.batch}`;
    case 'train':
      return `${spec.backend} train step, batch ${spec.batch}`;
    case 'throughput':
      return `${spec.engine} throughput, ${spec.workers} ${spec.engine === 'tfjs-wasm' ? 'worker' : 'thread'}${spec.workers > 1 ? 's' : ''}`;
    case 'preprocess':
      return `${spec.mode} (${spec.files.length} JPEGs)`;
  }
}

/** Recognises the ways running out of memory shows up: wasm abort in malloc, V8 heap, typed arrays. */
export function looksLikeOutOfMemory(text: string): boolean {
  return /Aborted\(\)|Cannot enlarge memory|out of memory|Array buffer allocation failed|Invalid typed array length|WebAssembly\.Memory/i.test(
    text,
  );
}
