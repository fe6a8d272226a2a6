/**
 * The report's confusion chart as standalone SVG, drawn by Vega (../charts/vega-svg.ts). The training
 * curves are training's (../charts/training-curves.ts).
 */
import type { Axis, Mark, Spec } from 'vega';
import { CHART_CONFIG, renderSvg } from '../charts/vega-svg.ts';

/** Up to this many classes every cell is drawn, with its count; beyond, only the cells with images. */
const EVERY_CELL_UP_TO = 20;

/**
 * Heatmap of the confusion matrix: rows true class, columns predicted class, in class order (sorted
 * names). Cells are coloured by the share of the true class, so a rare class's mistakes are as visible
 * as a common one's; each cell's `<title>` (shown on hover) gives the count and share. With many classes
 * the empty cells are left to the white background: at 101 classes drawing all 10,201 made a 1.7 MB SVG
 * (inlined again in report.html), while a trained model's non-empty cells are a few hundred.
 */
export async function confusionSvg(
  confusion: readonly number[][],
  classes: readonly string[],
): Promise<string> {
  const numClasses = classes.length;
  const cellSize = Math.max(12, Math.min(44, Math.floor(700 / numClasses)));
  const everyCell = numClasses <= EVERY_CELL_UP_TO;
  const cells = confusion.flatMap((row, trueIndex) => {
    const support = row.reduce((sum, count) => sum + count, 0);
    return row
      .map((count, predictedIndex) => ({
        trueClass: classes[trueIndex],
        predictedClass: classes[predictedIndex],
        count,
        share: support === 0 ? 0 : count / support,
        diagonal: trueIndex === predictedIndex,
      }))
      .filter((cell) => everyCell || cell.count > 0 || cell.diagonal);
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
    marks: [backgroundMark(), cellMark(), ...(everyCell ? [countMark(cellSize)] : [])],
  };
  return addCellTitles(await renderSvg(spec));
}

/** Class names along both sides, smaller for many classes; the band itself is the tick. */
function confusionAxes(cellSize: number): Axis[] {
  // Wide enough for Food-101's longest name, grilled_cheese_sandwich, at 9 px.
  const labels = { labelFontSize: cellSize < 16 ? 9 : 11, labelLimit: 240, domain: false, ticks: false };
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

/** The grid's white ground and frame: what empty cells show when they are not drawn. */
function backgroundMark(): Mark {
  return {
    type: 'rect',
    aria: false,
    encode: {
      enter: {
        x: { value: 0 },
        y: { value: 0 },
        width: { signal: 'width' },
        height: { signal: 'height' },
        fill: { value: '#ffffff' },
        stroke: { value: '#e5e7eb' },
      },
    },
  };
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
