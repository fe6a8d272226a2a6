/**
 * `pnpm runs compare`: one self-contained page (inline CSS and SVG, no scripts, no network) with the
 * runs' curves overlaid, their settings side by side with the differences marked, and the headline
 * metrics of their test reports.
 */
import { milliseconds, percent, score } from '../evaluate/format.ts';
import { htmlPage, PAGE_STYLE } from '../evaluate/page-style.ts';
import { escapeHtml } from '../evaluate/report-html.ts';
import { differingSettings, type RunSummary } from './read-runs.ts';
import { duration, epochsCell } from './runs-table.ts';

/** The page's charts, as SVG (compare-charts.ts). */
export interface CompareCharts {
  curves: string;
  timeToAccuracy: string;
}

export function renderComparePage(runs: readonly RunSummary[], charts: CompareCharts): string {
  const names = runs.map((run) => run.name).join(' · ');
  return htmlPage({
    title: `${escapeHtml(names)} · runs compared`,
    style: STYLE,
    eyebrow: 'Runs compared',
    heading: `${runs.map((run) => escapeHtml(run.name)).join(' <span class="muted">vs</span> ')}`,
    meta: `${runs.map((run) => `<code>${escapeHtml(run.dir)}</code>`).join(' · ')}`,
    body: `${summaryTable(runs)}
<section>
  <h2>Training curves</h2>
  <p class="note">Validation solid, training dashed; one colour per run. From each run's <code>history.json</code>.</p>
  <figure class="chart">${charts.curves}</figure>
</section>
<section>
  <h2>Time to accuracy</h2>
  <p class="note">Validation top-1 at the end of each epoch against the minutes since the run started: setup first
  (loading, statistics, caching the features), then the epochs' times from <code>history.json</code>; a resumed run's
  setups are added together; checkpoint saves are not counted. Compare runs validated on the same split.</p>
  <figure class="chart">${charts.timeToAccuracy}</figure>
</section>
${settingsTable(runs)}`,
  });
}

function summaryTable(runs: readonly RunSummary[]): string {
  const cell = (value: number | null | undefined, format: (value: number) => string) =>
    value === null || value === undefined ? '<td class="none">–</td>' : `<td>${format(value)}</td>`;
  const rows = runs.map(
    (run) => `<tr>
    <th scope="row">${escapeHtml(run.name)}<div class="source">${run.test ? `<code>${escapeHtml(run.test.dir)}</code> · ${run.test.numImages.toLocaleString('en-US')} images · ${escapeHtml(run.test.backend)}` : 'no test report'}</div></th>
    <td>${epochsCell(run)}</td>
    ${cell(run.bestValTop1, percent)}
    <td>${run.bestEpoch ?? '–'}</td>
    <td>${duration(run.trainingSeconds)}</td>
    ${cell(run.test?.top1, percent)}
    ${cell(run.test?.top5, percent)}
    ${cell(run.test?.macroF1, score)}
    ${cell(run.test?.macroPrecision, score)}
    ${cell(run.test?.macroRecall, score)}
    ${cell(run.test?.latencyP50Ms, milliseconds)}
  </tr>`,
  );
  return `<section>
  <h2>Results</h2>
  <table class="summary">
  <thead><tr><th>run <span class="sub">test report</span></th><th>epochs</th><th>best val top-1</th><th>at epoch</th><th>training time</th>
  <th>test top-1</th><th>top-5</th><th>macro F1</th><th>precision</th><th>recall</th><th>latency p50</th></tr></thead>
  <tbody>
  ${rows.join('\n  ')}
  </tbody>
  </table>
  <p class="note">Test figures come from the newest <code>pnpm evaluate --split test</code> report about a checkpoint of the run
  (<code>--reports</code> folder); precision and recall are macro averages; latency is one image at a time, end to end;
  training time is the sum of the epochs' times in <code>history.json</code>.</p>
</section>`;
}

function settingsTable(runs: readonly RunSummary[]): string {
  const differing = new Set(differingSettings(runs));
  // The differences first: they are what the page is for.
  const allKeys = [...new Set(runs.flatMap((run) => Object.keys(run.config)))];
  const keys = [
    ...allKeys.filter((key) => differing.has(key)),
    ...allKeys.filter((key) => !differing.has(key)),
  ];
  const value = (run: RunSummary, key: string) =>
    key in run.config ? settingHtml(run.config[key]) : '<span class="none">absent</span>';
  const rows = keys.map(
    (key) =>
      `<tr${differing.has(key) ? ' class="differs"' : ''}><th scope="row">${differing.has(key) ? '<span class="mark" title="differs">≠</span> ' : ''}${escapeHtml(key)}</th>${runs
        .map((run) => `<td>${value(run, key)}</td>`)
        .join('')}</tr>`,
  );
  return `<section>
  <h2>Settings</h2>
  <p class="note">Each run's <code>run-config.json</code>; the ${differing.size} setting${differing.size === 1 ? '' : 's'} marked ≠ differ between the runs and come first
  (<code>out</code>, the run's own folder, and <code>resume</code>, how its last command started, are not counted).</p>
  <table class="settings">
  <thead><tr><th>setting</th>${runs.map((run) => `<th>${escapeHtml(run.name)}</th>`).join('')}</tr></thead>
  <tbody>
  ${rows.join('\n  ')}
  </tbody>
  </table>
</section>`;
}

/** A setting as JSON; an object (preprocess) one field per line, so the columns stay narrow. */
function settingHtml(value: unknown): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `<code>${escapeHtml(JSON.stringify(value))}</code>`;
  }
  return Object.entries(value)
    .map(([key, field]) => `<code>${escapeHtml(key)}: ${escapeHtml(JSON.stringify(field))}</code>`)
    .join('<br>');
}

const STYLE = `${PAGE_STYLE}
.meta, .note { color: var(--muted); margin: 8px 0 12px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 7px 10px; border-bottom: 1px solid var(--line); text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
thead th { font-size: 13px; color: var(--muted); font-weight: 600; background: var(--panel); }
.summary td { white-space: nowrap; }
.summary .source, .sub { font-size: 12px; color: var(--muted); font-weight: 400; }
.settings th, .settings td { text-align: left; word-break: break-word; }
.settings tbody th { white-space: nowrap; }
.settings tr.differs { background: #fff7ed; }
.settings tr.differs th { color: #9a3412; }
.mark { display: inline-block; width: 18px; font-weight: 700; }
.none { color: var(--muted); }
figure.chart { margin: 0; overflow-x: auto; }
figure.chart svg { max-width: 100%; height: auto; }
`;
