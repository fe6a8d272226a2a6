/**
 * `--tensorboard DIR`: event files in DIR/<run name>, so `tensorboard --logdir DIR` compares runs.
 * Scalars go through tfjs-node's summary writer when the tensorflow backend runs (TensorFlow's own
 * writer), otherwise through EventFileWriter; images always through EventFileWriter, as tfjs-node
 * writes no image summaries.
 */
import path from 'node:path';
import { tensorflowNodeApi } from '@food/core/backend';
import { confusionImage } from './confusion-image.ts';
import { EventFileWriter } from './event-file-writer.ts';
import { epochMetrics, StepWindow, type Tracker } from './tracker.ts';

interface ScalarWriter {
  scalar(tag: string, value: number, step: number): void;
  flush(): void;
}

/** Which writer writes the scalars: `tfjs-node` where the tensorflow backend runs. */
export type ScalarWriterKind = 'tfjs-node' | 'event-file-writer';

export async function openScalarWriter(
  logdir: string,
): Promise<{ writer: ScalarWriter; kind: ScalarWriterKind; close: () => void }> {
  const node = await tensorflowNodeApi();
  if (node) {
    const writer = node.summaryFileWriter(logdir);
    return { writer, kind: 'tfjs-node', close: () => writer.flush() };
  }
  const writer = new EventFileWriter(logdir);
  return {
    writer: { scalar: (...args) => writer.scalar(...args), flush: () => {} },
    kind: 'event-file-writer',
    close: () => writer.close(),
  };
}

export interface TensorboardOptions {
  /** `--tensorboard DIR`. */
  root: string;
  /** The run folder's name: the run's folder under DIR. */
  runName: string;
  log: (line: string) => void;
}

/** The run's TensorBoard folder: DIR/<run name>. */
export function tensorboardRunDir(root: string, runName: string): string {
  return path.join(root, runName);
}

/** Scalars per step (the step's loss, accuracy, learning rate, images/s) and per epoch (its history row). */
export async function openTensorboardTracker(options: TensorboardOptions): Promise<Tracker> {
  const logdir = tensorboardRunDir(options.root, options.runName);
  const { writer, kind, close } = await openScalarWriter(logdir);
  options.log(`tensorboard: ${logdir} (${kind}); view with \`tensorboard --logdir ${options.root}\``);
  const window = new StepWindow();
  return {
    step: (step) => {
      window.add(step);
      const { loss, accuracy, imagesPerSecond } = window.take();
      writer.scalar('step/loss', loss, step.globalStep);
      writer.scalar('step/accuracy', accuracy, step.globalStep);
      writer.scalar('step/learning_rate', step.learningRate, step.globalStep);
      writer.scalar('step/images_per_second', imagesPerSecond, step.globalStep);
    },
    epoch: (record) => {
      for (const [tag, value] of Object.entries(epochMetrics(record)))
        writer.scalar(tag, value, record.epoch);
      writer.flush();
    },
    finish: async () => close(),
  };
}

/** `pnpm evaluate --tensorboard DIR`: the split's top-1/top-5/F1 and the confusion matrix as an image. */
export function writeEvaluationSummary(
  options: Omit<TensorboardOptions, 'log'> & {
    split: string;
    step: number;
    metrics: { top1: number; top5: number; macroF1: number };
    confusion: readonly (readonly number[])[];
  },
): string {
  const writer = new EventFileWriter(tensorboardRunDir(options.root, options.runName));
  try {
    writer.scalar(`${options.split}/top1`, options.metrics.top1, options.step);
    writer.scalar(`${options.split}/top5`, options.metrics.top5, options.step);
    writer.scalar(`${options.split}/macro_f1`, options.metrics.macroF1, options.step);
    writer.image(`${options.split}/confusion_matrix`, confusionImage(options.confusion), options.step);
  } finally {
    writer.close();
  }
  return writer.file;
}
