/**
 * report.html: one self-contained page (inline CSS and SVG, thumbnails as data: URIs, no scripts, no
 * network), so it can be attached to an issue or opened from a CI artifact as is.
 */

import type { EvaluationMetrics, MetricsSummary } from '@food/core/report/evaluation-metrics';
import { bytes, count, exactCount, milliseconds, percent, points, score, ttaNote } from './format.ts';
import { htmlPage, PAGE_STYLE } from './page-style.ts';
import type { ReportInput } from './report-input.ts';

export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

export function renderHtmlReport(input: ReportInput): string {
  const { metrics } = input;
  const title = `${input.runName} · ${metrics.split} split`;
  return htmlPage({
    title: `${escapeHtml(title)} · evaluation`,
    style: STYLE,
    eyebrow: 'Evaluation report',
    heading: `${escapeHtml(input.runName)} <span class="muted">on the ${escapeHtml(metrics.split)} split</span>`,
    meta: `${exactCount(metrics.numImages)} images${metrics.limit === null ? '' : ` (--limit ${metrics.limit}: spread evenly over the split)`} ·
  checkpoint <code>${escapeHtml(metrics.checkpoint)}</code> · data <code>${escapeHtml(metrics.prepared)}</code> ·
  backend ${escapeHtml(metrics.backend)} · ${escapeHtml(ttaNote(metrics.tta))} · ${escapeHtml(metrics.evaluatedAt.slice(0, 16).replace('T', ' '))} UTC`,
    body: `${headline(metrics)}
${baselines(metrics)}
<section>
  <h2>Training curves</h2>
  ${input.curvesSvg ? `<figure class="chart">${input.curvesSvg}</figure>` : ''}
  <p class="note">${escapeHtml(input.curvesNote)}</p>
</section>
<section>
  <h2>Confusion matrix</h2>
  <p class="note">Rows are the true class, columns the predicted class; colour is the share of the true class
  (row-normalised), so the diagonal is each class's recall. Hover a cell for its count.${fullSize(metrics) ? ' Shown at full size so every class name stays legible: scroll sideways.' : ''}</p>
  <figure class="chart${fullSize(metrics) ? ' full-size' : ''}">${input.confusionSvg}</figure>
</section>
${confusedPairs(input)}
${perClassTable(input)}
<footer>
  <p>Precision, recall and F1 follow scikit-learn's <code>precision_recall_fscore_support</code>
  (zero_division=0; macro = unweighted mean over classes present, weighted = by support). Top-5 counts an
  image as correct when its class is among the five most probable. Files beside this page:
  <code>metrics.json</code>, <code>predictions.csv</code>, <code>per-class.csv</code>, <code>confusion.csv</code>,
  <code>confusion.svg</code>, <code>curves.svg</code>, <code>report.md</code>.</p>
</footer>`,
  });
}

/**
 * Beyond 40 classes the heatmap is wider than the page: shrunk to fit, Food-101's 101 class names would be
 * 6 px high. It keeps its size and the figure scrolls instead.
 */
const fullSize = (metrics: EvaluationMetrics) => Object.keys(metrics.perClass).length > 40;

function headline(metrics: EvaluationMetrics): string {
  const card = (label: string, value: string, detail: string) =>
    `<div class="card"><div class="label">${label}</div><div class="value">${value}</div><div class="detail">${detail}</div></div>`;
  const latency = metrics.latency;
  return `<section class="cards">
  ${card('Top-1 accuracy', percent(metrics.accuracy), `${exactCount(Math.round(metrics.accuracy * metrics.numImages))} of ${exactCount(metrics.numImages)} correct`)}
  ${card('Top-5 accuracy', percent(metrics.top5Accuracy), 'class among the 5 most probable')}
  ${card('Macro F1', score(metrics.f1.macro), `weighted ${score(metrics.f1.weighted)}`)}
  ${card('Macro precision / recall', `${score(metrics.precision.macro)} / ${score(metrics.recall.macro)}`, `weighted ${score(metrics.precision.weighted)} / ${score(metrics.recall.weighted)}`)}
  ${card('Latency, 1 image', milliseconds(latency.endToEnd.p50Ms), `p95 ${milliseconds(latency.endToEnd.p95Ms)} · model only p50 ${milliseconds(latency.model.p50Ms)} · ${escapeHtml(metrics.backend)}`)}
  ${card('Model', `${count(metrics.parameters)} weights`, `${bytes(metrics.sizeBytes)} on disk · ${metrics.throughput.imagesPerSecond.toFixed(1)} img/s batched`)}
</section>`;
}

function baselines(metrics: EvaluationMetrics): string {
  const majority = metrics.baselines.majorityClass;
  const compare = metrics.baselines.compare;
  const row = (
    name: string,
    detail: string,
    other: MetricsSummary,
    isModel = false,
  ) => `<tr${isModel ? ' class="model"' : ''}>
    <th scope="row">${name}<div class="sub">${detail}</div></th>
    <td>${percent(other.accuracy)}${isModel ? '' : delta(metrics.accuracy - other.accuracy)}</td>
    <td>${percent(other.top5Accuracy)}${isModel ? '' : delta(metrics.top5Accuracy - other.top5Accuracy)}</td>
    <td>${score(other.f1.macro)}</td>
    <td>${score(other.f1.weighted)}</td>
    <td>${score(other.precision.macro)}</td>
    <td>${score(other.recall.macro)}</td>
  </tr>`;
  return `<section>
  <h2>Against baselines</h2>
  <p class="note">Same ${exactCount(metrics.numImages)} images for every row. The small figures under a baseline's score are this model's lead over it.</p>
  <table class="compare">
    <thead><tr><th></th><th>Top-1</th><th>Top-5</th><th>Macro F1</th><th>Weighted F1</th><th>Macro precision</th><th>Macro recall</th></tr></thead>
    <tbody>
    ${row('This model', `<code>${escapeHtml(metrics.checkpoint)}</code>`, metrics, true)}
    ${compare ? row('Compared checkpoint', `<code>${escapeHtml(compare.checkpoint)}</code> · ${count(compare.parameters)} weights`, compare.metrics) : ''}
    ${row('Majority class', `always <b>${escapeHtml(majority.majorityClass)}</b>, the training split's most frequent class`, majority.metrics)}
    </tbody>
  </table>
</section>`;
}

function delta(lead: number): string {
  return `<div class="delta ${lead >= 0 ? 'up' : 'down'}">${points(lead)}</div>`;
}

function confusedPairs(input: ReportInput): string {
  if (input.confusedPairs.length === 0) {
    return '<section><h2>Most confused pairs</h2><p class="note">No mistakes: every image was classified correctly.</p></section>';
  }
  const items = input.confusedPairs
    .map((pair, rank) => {
      const examples = pair.examples
        .map(
          (example) =>
            `<figure class="thumb">${
              example.thumbnail
                ? `<img src="${example.thumbnail}" alt="${escapeHtml(example.image)}" width="112" height="112">`
                : '<div class="missing">unreadable</div>'
            }<figcaption title="${escapeHtml(example.image)}">${percent(example.confidence, 0)} ${escapeHtml(pair.predictedName)}</figcaption></figure>`,
        )
        .join('');
      return `<li class="pair">
      <div class="pair-head"><span class="rank">${rank + 1}</span>
        <span><b>${escapeHtml(pair.trueName)}</b> <span class="arrow">→</span> <b>${escapeHtml(pair.predictedName)}</b></span>
        <span class="pair-count">${pair.count} image${pair.count === 1 ? '' : 's'} · ${percent(pair.fractionOfTrue)} of ${escapeHtml(pair.trueName)}</span></div>
      <div class="thumbs">${examples}</div>
    </li>`;
    })
    .join('\n');
  return `<section>
  <h2>Most confused pairs</h2>
  <p class="note">The ${input.confusedPairs.length} largest off-diagonal cells: true class → predicted class. Examples are the model's most confident mistakes for the pair, captioned with the probability it gave the wrong class.</p>
  <ol class="pairs">${items}</ol>
</section>`;
}

function perClassTable(input: ReportInput): string {
  const rows = Object.entries(input.metrics.perClass)
    .sort(([nameA, a], [nameB, b]) => a.f1 - b.f1 || nameA.localeCompare(nameB))
    .map(
      ([name, metrics]) => `<tr>
      <th scope="row">${escapeHtml(name)}</th>
      <td>${score(metrics.precision)}</td>
      <td>${score(metrics.recall)}</td>
      <td class="f1"><span class="bar" style="width:${(metrics.f1 * 100).toFixed(1)}%;background:${barColour(metrics.f1)}"></span><span>${score(metrics.f1)}</span></td>
      <td>${metrics.support}</td>
    </tr>`,
    )
    .join('\n');
  return `<section>
  <h2>Per class</h2>
  <p class="note">Sorted by F1, weakest first.</p>
  <table class="per-class">
    <thead><tr><th>Class</th><th>Precision</th><th>Recall</th><th>F1</th><th>Support</th></tr></thead>
    <tbody>${rows}</tbody>
  </table>
</section>`;
}

/** Red below 0.5, amber to 0.8, green above: where to look first. */
function barColour(f1: number): string {
  if (f1 < 0.5) return '#fca5a5';
  if (f1 < 0.8) return '#fcd34d';
  return '#86efac';
}

const STYLE = `${PAGE_STYLE}
.meta, .note { color: var(--muted); margin: 0 0 12px; }
.cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; background: var(--panel); }
.card .label { color: var(--muted); font-size: 13px; }
.card .value { font-size: 28px; font-weight: 650; margin: 2px 0; font-variant-numeric: tabular-nums; }
.card .detail { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 8px 12px; border-bottom: 1px solid var(--line); text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
thead th { white-space: nowrap; font-size: 13px; color: var(--muted); font-weight: 600; background: var(--panel); }
.compare tr.model { background: #eff6ff; }
.compare .sub { color: var(--muted); font-weight: 400; font-size: 12px; }
.delta { font-size: 12px; white-space: nowrap; }
.delta.up { color: #15803d; }
.delta.down { color: #b91c1c; }
figure.chart { margin: 0; overflow-x: auto; }
figure.chart svg { max-width: 100%; height: auto; }
figure.chart.full-size svg { max-width: none; }
.pairs { list-style: none; padding: 0; margin: 0; display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.pair { border: 1px solid var(--line); border-radius: 10px; padding: 12px; }
.pair-head { display: flex; flex-wrap: wrap; gap: 8px; align-items: baseline; margin-bottom: 8px; }
.rank { display: inline-block; min-width: 22px; height: 22px; border-radius: 11px; background: var(--ink); color: #fff; font-size: 12px; text-align: center; line-height: 22px; }
.arrow { color: var(--muted); }
.pair-count { color: var(--muted); font-size: 13px; margin-left: auto; }
.thumbs { display: flex; gap: 8px; flex-wrap: wrap; }
.thumb { margin: 0; width: 112px; }
.thumb img, .thumb .missing { display: block; width: 112px; height: 112px; border-radius: 6px; object-fit: cover; background: var(--panel); }
.thumb .missing { color: var(--muted); font-size: 12px; text-align: center; line-height: 112px; }
.thumb figcaption { font-size: 11px; color: var(--muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.per-class td.f1 { position: relative; min-width: 160px; }
.per-class .bar { position: absolute; left: 0; top: 6px; bottom: 6px; border-radius: 3px; opacity: .8; }
.per-class td.f1 span:last-child { position: relative; }
footer { margin-top: 40px; padding-top: 16px; border-top: 1px solid var(--line); color: var(--muted); font-size: 13px; }
@media (max-width: 800px) { .cards { grid-template-columns: 1fr 1fr; } .pairs { grid-template-columns: 1fr; } }
@media print { body { background: #fff; } main { padding: 0; } }
`;
