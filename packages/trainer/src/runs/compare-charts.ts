/**
 * The runs' training curves overlaid, as standalone SVG drawn by Vega (the same renderer and look as
 * the evaluation report's charts): loss and top-1 per epoch, one colour per run, validation solid and
 * training dashed.
 */
import type { GroupMark, Spec } from 'vega';
import { epochPanel } from '../charts/epoch-panel.ts';
import { renderSvg, twoPanelSpec } from '../charts/vega-svg.ts';
import type { EpochRecord } from '../train/history.ts';

export interface RunCurves {
  name: string;
  history: readonly EpochRecord[];
}

const PANEL = { width: 420, height: 260 };

export async function comparisonCurvesSvg(runs: readonly RunCurves[]): Promise<string> {
  const points = runs.flatMap((run) =>
    run.history.flatMap((record) => [
      { panel: 'loss', run: run.name, epoch: record.epoch, series: 'train', value: record.trainLoss },
      { panel: 'loss', run: run.name, epoch: record.epoch, series: 'val', value: record.valLoss },
      { panel: 'top1', run: run.name, epoch: record.epoch, series: 'train', value: record.trainAccuracy },
      { panel: 'top1', run: run.name, epoch: record.epoch, series: 'val', value: record.valTop1 },
    ]),
  );
  const spec: Spec = {
    ...twoPanelSpec(points),
    scales: [
      // Tableau 10: distinguishable for up to ten runs, and for the common colour-vision deficiencies.
      { name: 'run', type: 'ordinal', domain: runs.map((run) => run.name), range: { scheme: 'tableau10' } },
      { name: 'dash', type: 'ordinal', domain: ['val', 'train'], range: [[], [5, 3]] },
    ],
    legends: [
      { stroke: 'run', title: 'run', symbolType: 'stroke', orient: 'right' },
      {
        strokeDash: 'dash',
        title: 'split',
        symbolType: 'stroke',
        orient: 'right',
        encode: { symbols: { update: { stroke: { value: '#374151' } } } },
      },
    ],
    marks: [
      panel('loss', 'Loss (cross-entropy)', { title: 'loss' }),
      panel('top1', 'Top-1 accuracy', { title: 'top-1', format: '.0%' }, [0, 1]),
    ],
  };
  return renderSvg(spec);
}

function panel(
  name: string,
  title: string,
  axis: { title: string; format?: string },
  domain?: [number, number],
): GroupMark {
  return epochPanel({
    name,
    title,
    size: PANEL,
    axis,
    domain,
    lines: {
      groupby: ['run', 'series'],
      sort: { field: 'datum.epoch' },
      encode: {
        stroke: { scale: 'run', field: 'run' },
        strokeDash: { scale: 'dash', field: 'series' },
        strokeWidth: { value: 2 },
      },
    },
    points: {
      size: 20,
      fill: { scale: 'run', field: 'run' },
      description:
        "datum.run + ', epoch ' + datum.epoch + ', ' + datum.series + ': ' + format(datum.value, '.4f')",
    },
  });
}
