/** File names inside a checkpoint folder (docs/architecture.md, "Checkpoint folder"). */
export const CHECKPOINT_FILES = {
  model: 'model.json',
  weights: 'weights.bin',
  preprocess: 'preprocess.json',
  labels: 'labels.json',
  runConfig: 'run-config.json',
  metrics: 'metrics.json',
  trainingState: 'training-state.json',
  optimizer: 'optimizer.bin',
  checksums: 'checksums.json',
} as const;

/** Files every checkpoint has; `training-state.json` and `optimizer.bin` are optional (a pair). */
export const REQUIRED_FILES = [
  CHECKPOINT_FILES.model,
  CHECKPOINT_FILES.weights,
  CHECKPOINT_FILES.preprocess,
  CHECKPOINT_FILES.labels,
  CHECKPOINT_FILES.runConfig,
  CHECKPOINT_FILES.metrics,
] as const;
