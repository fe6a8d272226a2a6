import * as tf from '@tensorflow/tfjs';
import type { ModelBatch } from './train-step.ts';

export interface EvaluationSummary {
  loss: number;
  top1: number;
  top5: number;
  examples: number;
}

/**
 * Validation pass in inference mode (batch norm uses its moving statistics, as evaluation and serving
 * do). `batches` yields tensors that this function disposes.
 */
export async function evaluateModel(
  model: tf.LayersModel,
  batches: AsyncIterable<ModelBatch>,
  numClasses: number,
  onBatch?: (done: number) => void,
): Promise<EvaluationSummary> {
  let lossSum = 0;
  let top1 = 0;
  let top5 = 0;
  let examples = 0;
  for await (const { inputs, labels } of batches) {
    const [batchLoss, batchTop1, batchTop5] = tf.tidy(() => {
      const logits = model.predict(inputs) as tf.Tensor2D;
      const k = Math.min(5, numClasses);
      const loss = tf.losses.softmaxCrossEntropy(
        tf.oneHot(labels, numClasses),
        logits,
        undefined,
        undefined,
        tf.Reduction.SUM,
      );
      const topIndices = tf.topk(logits, k).indices;
      const hits = topIndices.equal(labels.expandDims(1));
      return [loss.dataSync()[0], hits.slice([0, 0], [-1, 1]).sum().dataSync()[0], hits.sum().dataSync()[0]];
    });
    lossSum += batchLoss;
    top1 += batchTop1;
    top5 += batchTop5;
    examples += labels.shape[0];
    tf.dispose([inputs, labels]);
    onBatch?.(labels.shape[0]);
  }
  if (examples === 0) return { loss: Number.NaN, top1: Number.NaN, top5: Number.NaN, examples };
  return { loss: lossSum / examples, top1: top1 / examples, top5: top5 / examples, examples };
}
