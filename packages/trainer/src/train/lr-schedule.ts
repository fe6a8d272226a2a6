/**
 * Learning rate per optimizer step (`--lr-schedule`, `--warmup-epochs`) and early stopping
 * (`--patience`), as Keras and fastai users know them. Pure functions of the step or epoch, so a resumed
 * run, which restores the global step, continues on the same curve.
 */

import type { TrainConfig } from './run-config.ts';

/**
 * The run's settings that decide the rate: `learningRate` is the peak, reached at the end of the
 * warm-up (`warmupEpochs` of linear warm-up, may be fractional), then held (constant) or annealed (cosine).
 */
export type LrSchedule = Pick<TrainConfig, 'lrSchedule' | 'learningRate' | 'warmupEpochs' | 'epochs'> & {
  stepsPerEpoch: number;
};

/**
 * The rate for the optimizer step `step` (0-based, the global step before it is taken).
 * Warm-up: linear, learningRate · (step + 1) / warmupSteps, so the first step is not at rate 0 (as
 * timm's and Hugging Face's linear warm-ups). Cosine: after the warm-up, learningRate · ½(1 + cos(π·t)) with
 * t going from 0 at the first post-warm-up step to 1 at the last step of the last epoch (SGDR / PyTorch's
 * CosineAnnealingLR with eta_min 0, stepped per batch).
 */
export function learningRateAt(schedule: LrSchedule, step: number): number {
  const warmupSteps = Math.round(schedule.warmupEpochs * schedule.stepsPerEpoch);
  if (step < warmupSteps) return (schedule.learningRate * (step + 1)) / warmupSteps;
  if (schedule.lrSchedule === 'constant') return schedule.learningRate;
  const totalSteps = schedule.epochs * schedule.stepsPerEpoch;
  const annealSteps = totalSteps - warmupSteps;
  if (annealSteps <= 1) return schedule.learningRate;
  const t = Math.min(1, (step - warmupSteps) / (annealSteps - 1));
  return schedule.learningRate * 0.5 * (1 + Math.cos(Math.PI * t));
}

/**
 * Early stopping on validation top-1 (Keras `EarlyStopping(patience=N)`): stop once `patience` epochs
 * have passed without a new best. `patience` undefined never stops.
 */
export function shouldStopEarly(patience: number | undefined, epoch: number, bestEpoch: number): boolean {
  return patience !== undefined && epoch - bestEpoch >= patience;
}
