/** report.md: the report's numbers as GitHub-flavoured Markdown, for terminals and pull requests. */

import type { MetricsSummary } from '@food/core/report/evaluation-metrics';
import { bytes, count, exactCount, milliseconds, percent, points, score, ttaNote } from './format.ts';
import type { ReportInput } from './report-input.ts';

/** Markdown table cells cannot hold `|` or newlines. */
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderMarkdownReport(input: ReportInput): string {
  const { metrics } = input;
  const { majorityClass: majority, compare } = metrics.baselines;
  const lines: string[] = [
    `# Evaluation: ${cell(input.runName)} on the ${metrics.split} split`,
    '',
    `${exactCount(metrics.numImages)} images${metrics.limit === null ? '' : ` (--limit ${metrics.limit}: spread evenly over the split)`} · checkpoint \`${metrics.checkpoint}\` · data \`${metrics.prepared}\` · backend ${metrics.backend} · ${ttaNote(metrics.tta)} · ${metrics.evaluatedAt.slice(0, 16).replace('T', ' ')} UTC`,
    '',
    '| Metric | Value |',
    '| --- | ---: |',
    `| Top-1 accuracy | ${percent(metrics.accuracy)} |`,
    `| Top-5 accuracy | ${percent(metrics.top5Accuracy)} |`,
    `| Macro F1 / weighted F1 | ${score(metrics.f1.macro)} / ${score(metrics.f1.weighted)} |`,
    `| Macro precision / recall | ${score(metrics.precision.macro)} / ${score(metrics.recall.macro)} |`,
    `| Weighted precision / recall | ${score(metrics.precision.weighted)} / ${score(metrics.recall.weighted)} |`,
    `| Latency, 1 image, p50 / p95 (preprocess + model) | ${milliseconds(metrics.latency.endToEnd.p50Ms)} / ${milliseconds(metrics.latency.endToEnd.p95Ms)} |`,
    `| Latency, model only, p50 / p95 | ${milliseconds(metrics.latency.model.p50Ms)} / ${milliseconds(metrics.latency.model.p95Ms)} |`,
    `| Batched throughput (batch ${metrics.throughput.batchSize}) | ${metrics.throughput.imagesPerSecond.toFixed(1)} images/s |`,
    `| Model | ${count(metrics.parameters)} weights, ${bytes(metrics.sizeBytes)} on disk |`,
    '',
    `Latency: ${metrics.latency.note}.`,
    '',
    '## Against baselines',
    '',
    '| | Top-1 | Top-5 | Macro F1 | Weighted F1 |',
    '| --- | ---: | ---: | ---: | ---: |',
    baselineRow('**This model**', metrics),
    ...(compare ? [baselineRow(`Compared: \`${compare.checkpoint}\``, compare.metrics, metrics)] : []),
    baselineRow(
      `Majority class (\`${majority.majorityClass}\`, from the training split)`,
      majority.metrics,
      metrics,
    ),
    '',
    '## Most confused pairs',
    '',
  ];
  if (input.confusedPairs.length === 0) {
    lines.push('No mistakes.');
  } else {
    lines.push(
      '| # | True class | Predicted as | Images | Share of true class |',
      '| ---: | --- | --- | ---: | ---: |',
    );
    for (const [rank, pair] of input.confusedPairs.entries()) {
      lines.push(
        `| ${rank + 1} | ${cell(pair.trueName)} | ${cell(pair.predictedName)} | ${pair.count} | ${percent(pair.fractionOfTrue)} |`,
      );
    }
  }
  lines.push(
    '',
    '## Per class',
    '',
    '| Class | Precision | Recall | F1 | Support |',
    '| --- | ---: | ---: | ---: | ---: |',
  );
  for (const [name, perClass] of Object.entries(metrics.perClass)) {
    lines.push(
      `| ${cell(name)} | ${score(perClass.precision)} | ${score(perClass.recall)} | ${score(perClass.f1)} | ${perClass.support} |`,
    );
  }
  lines.push('', `Training curves: ${input.curvesNote}`, '', metrics.definitions, '');
  return lines.join('\n');
}

function baselineRow(name: string, row: MetricsSummary, model?: MetricsSummary): string {
  const lead = (ours: number, theirs: number) => (model ? ` (${points(ours - theirs)})` : '');
  return `| ${name} | ${percent(row.accuracy)}${lead(model?.accuracy ?? 0, row.accuracy)} | ${percent(row.top5Accuracy)}${lead(model?.top5Accuracy ?? 0, row.top5Accuracy)} | ${score(row.f1.macro)} | ${score(row.f1.weighted)} |`;
}
