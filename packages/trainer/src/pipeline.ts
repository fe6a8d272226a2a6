/**
 * The trainer's public entry for programs that drive its steps in-process (`pnpm demo` in
 * packages/tools): synthesise or prepare a data set, compute its statistics, train, export, evaluate.
 * Everything else in the trainer is internal; the CLI (`@food/trainer/cli`) is the other entry.
 */
export { prepareDataset } from './data/prepare.ts';
export { computeTrainingStats } from './data/stats.ts';
export { synthesizeDataset } from './data/synth.ts';
export { runEvaluation } from './evaluate/run-evaluation.ts';
export { exportBest } from './export/export-best.ts';
export { NO_PROGRESS_HELP, progressMode } from './progress.ts';
export { DEMO_FINE_TUNE } from './train/presets.ts';
export type { TrainConfig } from './train/run-config.ts';
export { runTraining } from './train/run-training.ts';
