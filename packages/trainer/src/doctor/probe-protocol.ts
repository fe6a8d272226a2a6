/** What ./probe.ts prints: one `PROBE_RESULT {json}` line per probe (read by ./probe-checks.ts). */
export const PROBE_RESULT = 'PROBE_RESULT ';

export interface TensorflowProbe {
  gpu: boolean;
  /** Images per optimizer step: the recipe's batch on a GPU, a 2-image smoke test on the CPU. */
  batch: number;
  /** Images per micro-batch the memory plan chose, and what the step ran at (lower after an OOM retry). */
  plannedMicroBatch: number;
  microBatch: number;
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
