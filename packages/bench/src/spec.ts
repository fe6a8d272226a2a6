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

/** A 1×1 convolution (a GEMM of (batch·size²) × inChannels by inChannels × outChannels). */
export interface GemmShape {
  batch: number;
  size: number;
  inChannels: number;
  outChannels: number;
}

/** conv3's 1×1 layers at batch 4: big enough for full speed, the kind of work ResNet-50 is made of. */
export const GEMM_PROBE: GemmShape = { batch: 4, size: 56, inChannels: 256, outChannels: 256 };

export function gemmFlop(shape: GemmShape): number {
  return 2 * shape.batch * shape.size * shape.size * shape.inChannels * shape.outChannels;
}

/** The `--gemm` argument of pytorch_resnet50.py. */
export function gemmArgument(shape: GemmShape): string {
  return [shape.batch, shape.size, shape.inChannels, shape.outChannels].join(',');
}

export type TfjsBackend = 'wasm' | 'cpu' | 'tensorflow';
export type ThroughputEngine = 'tfjs-wasm' | 'onnx-fp32' | 'onnx-int8';
/** `loader-512`: the loader on copies scaled to the original Food-101 size (longer side 512). */
export type PreprocessMode = 'preprocess' | 'augment' | 'loader' | 'loader-512';

export type MeasurementSpec =
  /** Inference through the tfjs engine, one batch per run; result in ms per image. */
  | {
      kind: 'forward';
      backend: TfjsBackend;
      /** wasm threads (the other backends ignore it). */
      threads: number;
      batch: number;
      runs: number;
      model: ModelShape;
    }
  /**
   * The real `trainStep` (AdamL2, all layers trainable) on `batch` images given as micro-batches of
   * `microBatch` (gradient accumulation, as training does when a batch does not fit); ms per image.
   */
  | {
      kind: 'train';
      backend: TfjsBackend;
      threads: number;
      batch: number;
      microBatch: number;
      runs: number;
      model: ModelShape;
    }
  /** GFLOP/s of GEMM_PROBE's 1×1 convolution on wasm: what bounds every convolution. */
  | { kind: 'gemm'; threads: number; runs: number; shape: GemmShape }
  /**
   * Images per second with all cores: `workers` wasm instances of `threadsPerWorker` threads each, or
   * one ONNX session with `workers` intra-op threads.
   */
  | {
      kind: 'throughput';
      engine: ThroughputEngine;
      workers: number;
      threadsPerWorker: number;
      batch: number;
      imagesPerRun: number;
      runs: number;
      model: ModelShape;
      /** JPEGs used to calibrate the int8 model (random inputs when empty). */
      calibrationImages: string[];
    }
  /**
   * Images per second through preprocessing, on real JPEGs. With `workers`, a loader mode runs that
   * many decode workers with the process pinned to as many cores (taskset), to show how it scales.
   */
  | {
      kind: 'preprocess';
      mode: PreprocessMode;
      files: string[];
      dataRoot: string;
      runs: number;
      workers?: number;
    };

/** Where the loader's time goes: measured as CPU time, so it holds on a machine shared with other jobs. */
export interface LoaderCpu {
  /** Images per CPU-second of the whole process (all threads): what one core decodes per second. */
  imagesPerCoreSecond: number;
  /** CPU ms per image on the main thread, which every batch passes through (Node ≥ 23.9 or Linux). */
  mainThreadMsPerImage?: number;
  /** The main thread's busy time per image (event-loop utilisation: ms not waiting for events). */
  mainThreadBusyMsPerImage?: number;
  /** Cores the process was pinned to (taskset), when it was. */
  pinnedCores?: number;
}

/** Marks the child's result line on stdout. */
export const RESULT_PREFIX = 'RESULT ';

export type Unit = 'ms/image' | 'images/s' | 'GFLOP/s';

export type MeasurementResult =
  | { status: 'ok'; unit: Unit; samples: number[]; detail?: string; loaderCpu?: LoaderCpu }
  /** `oom`: the process ran out of memory (wasm heap or JS heap); `unavailable`: cannot run here. */
  | { status: 'oom' | 'failed' | 'timeout' | 'unavailable'; reason: string };

export function unitOf(spec: MeasurementSpec): Unit {
  if (spec.kind === 'gemm') return 'GFLOP/s';
  return spec.kind === 'forward' || spec.kind === 'train' ? 'ms/image' : 'images/s';
}

/** A short human label for progress lines and error messages. */
export function describeSpec(spec: MeasurementSpec): string {
  switch (spec.kind) {
    case 'forward':
      return `${spec.backend} forward, batch ${spec.batch}${threadsLabel(spec)}`;
    case 'train':
      return `${spec.backend} train step, batch ${spec.batch}${spec.microBatch < spec.batch ? ` (${spec.batch / spec.microBatch} × ${spec.microBatch})` : ''}${threadsLabel(spec)}`;
    case 'gemm':
      return `wasm 1×1 convolution GFLOP/s${threadsLabel({ backend: 'wasm', threads: spec.threads })}`;
    case 'throughput':
      return spec.engine === 'tfjs-wasm'
        ? `${spec.engine} throughput, ${spec.workers} worker${spec.workers > 1 ? 's' : ''} × ${spec.threadsPerWorker} thread${spec.threadsPerWorker > 1 ? 's' : ''}`
        : `${spec.engine} throughput, ${spec.workers} thread${spec.workers > 1 ? 's' : ''}`;
    case 'preprocess':
      return `${spec.mode} (${spec.files.length} JPEGs${spec.workers ? `, ${spec.workers} worker${spec.workers > 1 ? 's' : ''} on as many cores` : ''})`;
  }
}

function threadsLabel(spec: { backend: TfjsBackend; threads: number }): string {
  return spec.backend === 'wasm' ? `, ${spec.threads} thread${spec.threads > 1 ? 's' : ''}` : '';
}

/** Recognises the ways running out of memory shows up: wasm abort in malloc, V8 heap, typed arrays. */
export function looksLikeOutOfMemory(text: string): boolean {
  return /Aborted\(\)|Cannot enlarge memory|out of memory|Array buffer allocation failed|Invalid typed array length|WebAssembly\.Memory/i.test(
    text,
  );
}
