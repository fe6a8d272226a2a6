/**
 * What the training loop tells experiment trackers (MLflow, TensorBoard): a call per optimizer step,
 * one per completed epoch, and one when the run ends. Calls during training never wait on a tracker
 * (a slow or dead MLflow server must not slow training); `finish` is where a tracker may wait.
 */
import type { EpochRecord } from '@food/core/checkpoint/epoch-metrics';

export interface TrackedStep {
  /** Steps taken by the run so far, this one included (progress.globalStep). */
  globalStep: number;
  loss: number;
  correct: number;
  examples: number;
  learningRate: number;
}

export interface TrainingEnd {
  status: 'completed' | 'stopped' | 'max-steps' | 'already-complete' | 'failed';
  /** The run folder: history, curves, best.onnx. */
  runDir: string;
}

export interface Tracker {
  step(step: TrackedStep): void;
  epoch(record: EpochRecord): void;
  /** Uploads what the run left (artifacts, the registered model) and says what could not be sent. */
  finish(end: TrainingEnd): Promise<void>;
}

/** Every step's figures summed over a window of steps, for metrics logged every N steps. */
export class StepWindow {
  private lossSum = 0;
  private steps = 0;
  private correct = 0;
  private examples = 0;
  private startedAt: number;

  constructor(private readonly now: () => number = Date.now) {
    this.startedAt = now();
  }

  add(step: TrackedStep): void {
    this.lossSum += step.loss;
    this.steps += 1;
    this.correct += step.correct;
    this.examples += step.examples;
  }

  get size(): number {
    return this.steps;
  }

  /** The window's mean loss, accuracy and images per second; starts the next window. */
  take(): { loss: number; accuracy: number; imagesPerSecond: number } {
    const seconds = Math.max(1e-3, (this.now() - this.startedAt) / 1000);
    const summary = {
      loss: this.lossSum / Math.max(1, this.steps),
      accuracy: this.correct / Math.max(1, this.examples),
      imagesPerSecond: this.examples / seconds,
    };
    this.lossSum = 0;
    this.steps = 0;
    this.correct = 0;
    this.examples = 0;
    this.startedAt = this.now();
    return summary;
  }
}

/** The figures of an epoch's history row, under the names both trackers log them. */
export function epochMetrics(record: EpochRecord): Record<string, number> {
  return {
    'epoch/train_loss': record.trainLoss,
    'epoch/train_accuracy': record.trainAccuracy,
    'epoch/val_loss': record.valLoss,
    'epoch/val_top1': record.valTop1,
    'epoch/val_top5': record.valTop5,
    'epoch/learning_rate': record.learningRate,
    'epoch/images_per_second': record.imagesPerSecond,
  };
}

/** Several trackers as one; `undefined` when there are none, so the loop's calls cost nothing. */
export function combineTrackers(trackers: Tracker[]): Tracker | undefined {
  if (trackers.length === 0) return undefined;
  if (trackers.length === 1) return trackers[0];
  return {
    step: (step) => {
      for (const tracker of trackers) tracker.step(step);
    },
    epoch: (record) => {
      for (const tracker of trackers) tracker.epoch(record);
    },
    finish: async (end) => {
      for (const tracker of trackers) await tracker.finish(end);
    },
  };
}
