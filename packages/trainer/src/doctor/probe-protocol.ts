/** What ./probe.ts prints: one `PROBE_RESULT {json}` line per probe (read by ./probe-checks.ts). */
export const PROBE_RESULT = 'PROBE_RESULT ';

export interface TensorflowProbe {
  gpu: boolean;
  batch: number;
  /** Seconds of the first step (cuDNN autotuning and, on new GPUs, PTX compilation happen here). */
  firstStepSeconds: number;
  imagesPerSecond: number;
}

export interface WasmProbe {
  simd: boolean;
  threads: number;
}

export interface OnnxProbe {
  output: number[];
}
