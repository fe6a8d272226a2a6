/**
 * The report's charts as standalone SVG, drawn by Vega (scales, axes, legends and layout from a
 * maintained library, rendered headless in Node: no browser, no canvas).
 */
import {
  type Axis,
  type ColorValueRef,
  type Compare,
  type GroupMark,
  type Legend,
  type LineEncodeEntry,
  type Mark,
  parse,
  type Scale,
  type ScaleData,
  type Spec,
  View,
} from 'vega';
import type { EpochRecord } from '../train/history.ts';

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
export const CHART_CONFIG = {
  font: FONT,
  axis: {
    labelFont: FONT,
    titleFont: FONT,
    labelColor: '#374151',
    titleColor: '#111827',
    gridColor: '#e5e7eb',
  },
  legend: { labelFont: FONT, titleFont: FONT },
  title: { font: FONT, fontSize: 14, fontWeight: 600, anchor: 'start', color: '#111827' },
} as const;

export async function renderSvg(spec: Spec): Promise<string> {
  const view = new View(parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Heatmap of the confusion matrix: rows true class, columns predicted class, in class order (sorted
 * names). Cells are coloured by the share of the true class, so a rare class's mistakes are as visible
 * as a common one's; each cell's `<title>` (shown on hover) gives the count and share.
 */
export async function confusionSvg(
  confusion: readonly number[][],
  classes: readonly string[],
): Promise<string> {
  const numClasses = classes.length;
  const cellSize = Math.max(12, Math.min(44, Math.floor(700 / numClasses)));
  const cells = confusion.flatMap((row, trueIndex) => {
    const support = row.reduce((sum, count) => sum + count, 0);
    return row.map((count, predictedIndex) => ({
      trueClass: classes[trueIndex],
      predictedClass: classes[predictedIndex],
      count,
      share: support === 0 ? 0 : count / support,
      diagonal: trueIndex === predictedIndex,
    }));
  });
  const spec: Spec = {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    width: cellSize * numClasses,
    height: cellSize * numClasses,
    padding: 8,
    autosize: 'pad',
    config: CHART_CONFIG,
    data: [{ name: 'cells', values: cells }],
    scales: [
      { name: 'x', type: 'band', domain: [...classes], range: 'width' },
      { name: 'y', type: 'band', domain: [...classes], range: 'height' },
      { name: 'color', type: 'linear', domain: [0, 1], range: { scheme: 'blues' }, zero: true },
    ],
    axes: confusionAxes(cellSize),
    legends: [
      {
        fill: 'color',
        type: 'gradient',
        title: 'share of true class',
        format: '.0%',
        orient: 'right',
        gradientLength: Math.min(240, cellSize * numClasses),
      },
    ],
    marks: [cellMark(), ...(numClasses <= 20 ? [countMark(cellSize)] : [])],
  };
  return addCellTitles(await renderSvg(spec));
}

/** Class names along both sides, smaller for many classes; the band itself is the tick. */
function confusionAxes(cellSize: number): Axis[] {
  const labels = { labelFontSize: cellSize < 16 ? 9 : 11, labelLimit: 160, domain: false, ticks: false };
  return [
    {
      orient: 'bottom',
      scale: 'x',
      title: 'predicted class',
      labelAngle: -60,
      labelAlign: 'right',
      labelBaseline: 'middle',
      ...labels,
    },
    { orient: 'left', scale: 'y', title: 'true class', ...labels },
  ];
}

/** One rect per cell, coloured by its share of the true class, labelled for the `<title>` on hover. */
function cellMark(): Mark {
  return {
    type: 'rect',
    from: { data: 'cells' },
    encode: {
      enter: {
        x: { scale: 'x', field: 'predictedClass' },
        width: { scale: 'x', band: 1 },
        y: { scale: 'y', field: 'trueClass' },
        height: { scale: 'y', band: 1 },
        // Empty cells stay white so the few mistakes stand out from the background.
        fill: [
          { test: 'datum.count === 0', value: '#ffffff' },
          { scale: 'color', field: 'share' },
        ],
        stroke: [{ test: 'datum.diagonal', value: '#9ca3af' }, { value: '#f3f4f6' }],
        strokeWidth: { value: 0.5 },
        description: {
          signal:
            "'true ' + datum.trueClass + ', predicted ' + datum.predictedClass + ': ' + datum.count + ' (' + format(datum.share, '.1%') + ' of ' + datum.trueClass + ')'",
        },
      },
    },
  };
}

/** The count in each non-empty cell (only up to 20 classes: beyond, the cells are too small to read). */
function countMark(cellSize: number): Mark {
  return {
    type: 'text',
    from: { data: 'cells' },
    aria: false,
    encode: {
      enter: {
        x: { scale: 'x', field: 'predictedClass', band: 0.5 },
        y: { scale: 'y', field: 'trueClass', band: 0.5 },
        align: { value: 'center' },
        baseline: { value: 'middle' },
        fontSize: { value: cellSize < 30 ? 9 : 11 },
        text: { signal: "datum.count === 0 ? '' : datum.count" },
        fill: [{ test: 'datum.share > 0.5', value: '#ffffff' }, { value: '#111827' }],
      },
    },
  };
}

/**
 * Vega's SVG renderer writes a mark's `description` as `aria-label` but has no `<title>` output (its
 * tooltips need a browser handler), so copy each heatmap cell's label into a `<title>` child: browsers
 * show it on hover, in a standalone .svg file as well as inline in report.html.
 */
export function addCellTitles(svg: string): string {
  return svg.replace(
    /<path aria-label="(true [^"]*)" role="graphics-symbol" aria-roledescription="rect mark"([^>]*?)\/>/g,
    '<path$2><title>$1</title></path>',
  );
}

// A nested group's scales cannot use the 'width'/'height' range shorthands (those are the top level's).
const PANEL = { width: 380, height: 240 };
const TRAIN = '#2563eb';
const VAL = '#ea580c';

/**
 * What every per-epoch curves chart shares: two panels side by side over one `points` table (panel,
 * epoch, series, value), points without a finite value (a run without validation) left out.
 */
export function twoPanelSpec(points: ReadonlyArray<{ value: number }>): Spec {
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    padding: 8,
    autosize: 'pad',
    config: CHART_CONFIG,
    layout: { columns: 2, padding: 48 },
    data: [{ name: 'points', values: points.filter((point) => Number.isFinite(point.value)) }],
  };
}

/** Loss and accuracy per epoch, train against validation, side by side. */
export async function curvesSvg(history: readonly EpochRecord[]): Promise<string> {
  const points = history.flatMap((record) => [
    { panel: 'loss', epoch: record.epoch, series: 'train', value: record.trainLoss },
    { panel: 'loss', epoch: record.epoch, series: 'val', value: record.valLoss },
    { panel: 'accuracy', epoch: record.epoch, series: 'train top-1', value: record.trainAccuracy },
    { panel: 'accuracy', epoch: record.epoch, series: 'val top-1', value: record.valTop1 },
    { panel: 'accuracy', epoch: record.epoch, series: 'val top-5', value: record.valTop5 },
  ]);
  const spec: Spec = {
    ...twoPanelSpec(points),
    marks: [
      curvePanel({
        name: 'loss',
        title: 'Loss (cross-entropy)',
        series: { train: TRAIN, val: VAL },
        axis: { title: 'loss' },
        domain: { data: 'loss-points', field: 'value' },
      }),
      curvePanel({
        name: 'accuracy',
        title: 'Accuracy',
        series: { 'train top-1': TRAIN, 'val top-1': VAL, 'val top-5': VAL },
        axis: { title: 'accuracy', format: '.0%' },
        domain: [0, 1],
      }),
    ],
  };
  return renderSvg(spec);
}

interface CurvePanel {
  /** The `panel` value of its points. */
  name: string;
  title: string;
  /** Series name → colour; 'val top-5' is dashed. */
  series: Record<string, string>;
  axis: Partial<Axis>;
  domain: ScaleData | number[];
}

function curvePanel(panel: CurvePanel): GroupMark {
  return epochPanel({
    name: panel.name,
    title: panel.title,
    size: PANEL,
    axis: panel.axis,
    domain: panel.domain,
    scales: [
      {
        name: 'color',
        type: 'ordinal',
        domain: Object.keys(panel.series),
        range: Object.values(panel.series),
      },
    ],
    // Below the axis rather than inside the plot, where it would hide lines.
    legends: [
      {
        stroke: 'color',
        orient: 'bottom',
        direction: 'horizontal',
        symbolType: 'stroke',
        encode: {
          symbols: {
            update: { strokeDash: [{ test: "datum.value === 'val top-5'", value: [4, 2] }, { value: [] }] },
          },
        },
      },
    ],
    lines: {
      groupby: 'series',
      encode: {
        stroke: { scale: 'color', field: 'series' },
        strokeWidth: { value: 2 },
        strokeDash: [{ test: "datum.series === 'val top-5'", value: [5, 3] }, { value: [] }],
      },
    },
    points: {
      size: 24,
      fill: { scale: 'color', field: 'series' },
      description: "'epoch ' + datum.epoch + ', ' + datum.series + ': ' + format(datum.value, '.4f')",
    },
  });
}

/** One panel of per-epoch values: what the report's curves and `pnpm runs`' comparison both draw. */
export interface EpochPanel {
  /** The `panel` value of its points in the `points` table. */
  name: string;
  title: string;
  size: { width: number; height: number };
  axis: Partial<Axis>;
  /** The y domain; the panel's values when absent. */
  domain?: ScaleData | number[];
  /** Scales besides x (epoch) and y (value). */
  scales?: Scale[];
  legends?: Legend[];
  /** One line per group of `groupby`, drawn with `encode` besides x and y. */
  lines: { groupby: string | string[]; sort?: Compare; encode: LineEncodeEntry };
  /** A dot per point, described for screen readers and hover. */
  points: { size: number; fill: ColorValueRef; description: string };
}

export function epochPanel(panel: EpochPanel): GroupMark {
  const points = `${panel.name}-points`;
  const series = `${panel.name}-series`;
  const { width, height } = panel.size;
  return {
    type: 'group',
    title: { text: panel.title },
    encode: { update: { width: { value: width }, height: { value: height } } },
    data: [
      {
        name: points,
        source: 'points',
        transform: [{ type: 'filter', expr: `datum.panel === '${panel.name}'` }],
      },
    ],
    scales: [
      { name: 'x', type: 'linear', domain: { data: points, field: 'epoch' }, range: [0, width], zero: false },
      {
        name: 'y',
        type: 'linear',
        domain: panel.domain ?? { data: points, field: 'value' },
        range: [height, 0],
        nice: true,
        zero: false,
      },
      ...(panel.scales ?? []),
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: 'epoch', tickMinStep: 1, format: 'd' },
      { orient: 'left', scale: 'y', grid: true, ...panel.axis },
    ],
    ...(panel.legends ? { legends: panel.legends } : {}),
    marks: [
      {
        type: 'group',
        from: { facet: { name: series, data: points, groupby: panel.lines.groupby } },
        marks: [
          {
            type: 'line',
            from: { data: series },
            ...(panel.lines.sort ? { sort: panel.lines.sort } : {}),
            encode: {
              enter: {
                x: { scale: 'x', field: 'epoch' },
                y: { scale: 'y', field: 'value' },
                ...panel.lines.encode,
              },
            },
          },
        ],
      },
      {
        type: 'symbol',
        from: { data: points },
        encode: {
          enter: {
            x: { scale: 'x', field: 'epoch' },
            y: { scale: 'y', field: 'value' },
            size: { value: panel.points.size },
            fill: panel.points.fill,
            description: { signal: panel.points.description },
          },
        },
      },
    ],
  };
}
