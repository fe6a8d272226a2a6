/**
 * The trainer's public entry for `pnpm bench` (packages/bench), which times its inner parts on their
 * own: one training step with the optimizer, the wasm heap budget, the batch loader and its decode
 * pool, and the ONNX export with its int8 quantisation; `pnpm bench:scale` reads a prepared set, a run's
 * history and the CPU preset's settings.
 */
export { createDecodePool } from './data/decode-pool.ts';
export { createBatchLoader } from './data/loader.ts';
export { readManifest, readPreparedPreprocess } from './data/prepared-set.ts';
export { calibrateRanges } from './export/calibrate.ts';
export { layersModelToOnnx } from './export/layers-to-onnx.ts';
export { encodeModel } from './export/onnx-graph.ts';
export { activationsToCalibrate, quantizeGraph } from './export/quantize-qdq.ts';
export { AdamL2 } from './train/adam.ts';
export { featureCacheEntries } from './train/feature-cache-plan.ts';
export { readHistory } from './train/history.ts';
export { trainableParameters } from './train/parameters.ts';
export { CPU_PRESET } from './train/presets.ts';
export { trainStep } from './train/train-step.ts';
export { estimateTrainingHeapBytes, WASM_TRAINING_HEAP_LIMIT } from './train/wasm-heap-budget.ts';
