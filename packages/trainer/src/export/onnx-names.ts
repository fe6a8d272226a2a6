/** The tensor names of an exported graph, which the engines (core/engine/onnx-engine.ts) look up. */
export const INPUT_NAME = 'input';
export const LOGITS_NAME = 'logits';
export const PROBABILITIES_NAME = 'probabilities';
/** Symbolic first dimension: any batch size runs through the same file. */
export const BATCH_DIM = 'batch';
