/**
 * A run's training curves (curves.svg in the run folder, redrawn after every epoch; the server's model
 * card and the evaluation report show it).
 */
import type { EpochRecord } from '@food/core/checkpoint/epoch-metrics';
import type { Axis, GroupMark, Mark, ScaleData, Spec } from 'vega';
import { renderSvg, twoPanelSpec } from './vega-svg.ts';

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
  const points = `${panel.name}-points`;
  return {
    type: 'group',
    title: { text: panel.title },
    encode: { update: { width: { value: PANEL.width }, height: { value: PANEL.height } } },
    data: [
      {
        name: points,
        source: 'points',
        transform: [{ type: 'filter', expr: `datum.panel === '${panel.name}'` }],
      },
    ],
    scales: [
      {
        name: 'x',
        type: 'linear',
        domain: { data: points, field: 'epoch' },
        range: [0, PANEL.width],
        zero: false,
      },
      { name: 'y', type: 'linear', domain: panel.domain, range: [PANEL.height, 0], nice: true, zero: false },
      {
        name: 'color',
        type: 'ordinal',
        domain: Object.keys(panel.series),
        range: Object.values(panel.series),
      },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: 'epoch', tickMinStep: 1, format: 'd' },
      { orient: 'left', scale: 'y', grid: true, ...panel.axis },
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
    marks: curveMarks(panel.name, points),
  };
}

/** One line per series (val top-5 dashed) and a point per epoch, labelled for screen readers. */
function curveMarks(name: string, points: string): Mark[] {
  return [
    {
      type: 'group',
      from: { facet: { name: `${name}-series`, data: points, groupby: 'series' } },
      marks: [
        {
          type: 'line',
          from: { data: `${name}-series` },
          encode: {
            enter: {
              x: { scale: 'x', field: 'epoch' },
              y: { scale: 'y', field: 'value' },
              stroke: { scale: 'color', field: 'series' },
              strokeWidth: { value: 2 },
              strokeDash: [{ test: "datum.series === 'val top-5'", value: [5, 3] }, { value: [] }],
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
          size: { value: 24 },
          fill: { scale: 'color', field: 'series' },
          description: {
            signal: "'epoch ' + datum.epoch + ', ' + datum.series + ': ' + format(datum.value, '.4f')",
          },
        },
      },
    },
  ];
}
