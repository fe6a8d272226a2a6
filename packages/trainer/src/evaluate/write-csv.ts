import { writeFile } from 'node:fs/promises';
import { topK } from '@food/core/metrics/top-k';
import type { PerClassSummary } from '@food/core/report/evaluation-metrics';
import { writeToString } from 'fast-csv';
import type { ImagePrediction } from './predict-split.ts';
import { predictedClass, TOP_K } from './summarize.ts';

/**
 * Six significant digits keep the csv readable and still separate real softmax outputs; exact
 * float32 values go to probabilities.json (`--save-probabilities`).
 */
export function formatProbability(probability: number): string {
  return String(Number(probability.toPrecision(6)));
}

/** `image,label,prediction,confidence,top5`; top5 is `name:prob` pairs joined by `|`, most probable first. */
export async function writePredictionsCsv(
  file: string,
  predictions: readonly ImagePrediction[],
  classes: readonly string[],
): Promise<void> {
  const rows = predictions.map(({ image, label, probabilities }) => {
    const predicted = predictedClass(probabilities);
    const top = topK(probabilities, Math.min(TOP_K, classes.length))
      .map(({ index, probability }) => `${classes[index]}:${formatProbability(probability)}`)
      .join('|');
    return [image, classes[label], classes[predicted], formatProbability(probabilities[predicted]), top];
  });
  await writeCsv(file, [['image', 'label', 'prediction', 'confidence', 'top5'], ...rows]);
}

export async function writePerClassCsv(
  file: string,
  perClass: Record<string, PerClassSummary>,
): Promise<void> {
  const rows = Object.entries(perClass).map(([name, { precision, recall, f1, support }]) => [
    name,
    precision,
    recall,
    f1,
    support,
  ]);
  await writeCsv(file, [['class', 'precision', 'recall', 'f1', 'support'], ...rows]);
}

/** Rows are true classes, columns predicted classes; the first column and the header name them. */
export async function writeConfusionCsv(
  file: string,
  confusion: readonly number[][],
  classes: readonly string[],
): Promise<void> {
  const rows = confusion.map((row, index) => [classes[index], ...row]);
  await writeCsv(file, [['true\\predicted', ...classes], ...rows]);
}

async function writeCsv(file: string, rows: Array<Array<string | number>>): Promise<void> {
  await writeFile(file, `${await writeToString(rows)}\n`);
}
