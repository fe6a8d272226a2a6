/**
 * Charts as standalone SVG, drawn by Vega (scales, axes, legends and layout from a maintained library,
 * rendered headless in Node: no browser, no canvas): the look every chart shares and the renderer.
 * Training (its curves.svg), evaluation's report and `runs compare` draw with it.
 */
import { parse, type Spec, View } from 'vega';

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
 * What every curves chart shares: `columns` panels side by side (two: loss and top-1) over one `points`
 * table (panel, x, series, value), points without a finite value (a run without validation) left out.
 */
export function panelsSpec(points: ReadonlyArray<{ value: number }>, columns = 2): Spec {
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    padding: 8,
    autosize: 'pad',
    config: CHART_CONFIG,
    layout: { columns, padding: 48 },
    data: [{ name: 'points', values: points.filter((point) => Number.isFinite(point.value)) }],
  };
}
