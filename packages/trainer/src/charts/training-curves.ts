/**
 * A run's training curves (curves.svg in the run folder, redrawn after every epoch; the server's model
 * card and the evaluation report show it).
 */
import type { EpochRecord } from '@food/core/checkpoint/epoch-metrics';
import type { Axis, GroupMark, ScaleData, Spec } from 'vega';
import { epochPanel } from './epoch-panel.ts';
import { panelsSpec, renderSvg } from './vega-svg.ts';

// A nested group's scales cannot use the 'width'/'height' range shorthands (those are the top level's).
const PANEL = { width: 380, height: 240 };
const TRAIN = '#2563eb';
const VAL = '#ea580c';

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
    ...panelsSpec(points),
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
