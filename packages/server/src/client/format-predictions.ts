import { formatLabel } from '../../public/format-label.js';
import type { PredictResponse } from './predict-client.ts';

const BAR_WIDTH = 20;

/** Human-readable top-k for one file: rank, label, percentage and a bar. */
export function formatPredictions(file: string, response: PredictResponse): string {
  const labels = response.predictions.map((prediction) => formatLabel(prediction.label));
  const width = Math.max(...labels.map((label) => label.length));
  const lines = response.predictions.map((prediction, index) => {
    const percent = `${(prediction.probability * 100).toFixed(1)}%`.padStart(6);
    const bar = '█'.repeat(Math.round(prediction.probability * BAR_WIDTH));
    return `  ${index + 1}. ${labels[index].padEnd(width)} ${percent} ${bar}`;
  });
  return [`${file}  (${response.latencyMs.toFixed(1)} ms, ${response.model.checkpoint})`, ...lines].join(
    '\n',
  );
}
