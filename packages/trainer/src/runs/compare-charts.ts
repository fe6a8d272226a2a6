/**
 * The runs' training curves overlaid, as standalone SVG drawn by Vega (the same renderer and look as
 * the evaluation report's charts): loss and top-1 per epoch, one colour per run, validation solid and
 * training dashed; and validation top-1 against the minutes each run had spent (time to accuracy).
 */
import type { GroupMark, Spec } from 'vega';
import { epochPanel } from '../charts/epoch-panel.ts';
import { panelsSpec, renderSvg } from '../charts/vega-svg.ts';
import type { EpochRecord } from '../train/history.ts';

export interface RunCurves {
  name: string;
  history: readonly EpochRecord[];
}

export interface RunTimeline extends RunCurves {
  /** Setup (start-up, data, feature caching) plus every epoch's seconds; null when not on record. */
  wallSeconds: number | null;
  /** The epochs' seconds (training and validation passes). */
  trainingSeconds: number;
}

// Tableau 10: distinguishable for up to ten runs, and for the common colour-vision deficiencies.
const runColours = (names: readonly string[]) => ({
  name: 'run',
  type: 'ordinal' as const,
  domain: [...names],
  range: { scheme: 'tableau10' },
});

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
    ...panelsSpec(points),
    scales: [
      runColours(runs.map((run) => run.name)),
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

/**
 * Validation top-1 against minutes since the run started: the setup (caching the features included)
 * comes first, then each epoch ends at the sum of the epochs' seconds so far. Checkpoint saves between
 * epochs are not counted. Runs whose setup time is not on record are left out.
 */
export async function timeToAccuracySvg(runs: readonly RunTimeline[]): Promise<string> {
  const timed = runs.filter((run) => run.wallSeconds !== null);
  const points = timed.flatMap((run) => {
    let seconds = run.wallSeconds! - run.trainingSeconds;
    return run.history.map((record) => {
      seconds += record.seconds;
      const minutes = seconds / 60;
      return {
        panel: 'time',
        run: run.name,
        minutes,
        epoch: record.epoch,
        value: record.valTop1,
      };
    });
  });
  const spec: Spec = {
    ...panelsSpec(points, 1),
    scales: [runColours(timed.map((run) => run.name))],
    legends: [{ stroke: 'run', title: 'run', symbolType: 'stroke', orient: 'right' }],
    marks: [
      epochPanel({
        name: 'time',
        title: 'Validation top-1 against time since the run started',
        size: { width: 560, height: 300 },
        x: { field: 'minutes', zero: true, axis: { title: 'minutes (setup and feature caching included)' } },
        axis: { title: 'validation top-1', format: '.0%' },
        lines: {
          groupby: 'run',
          sort: { field: 'datum.minutes' },
          encode: { stroke: { scale: 'run', field: 'run' }, strokeWidth: { value: 2 } },
        },
        points: {
          size: 24,
          fill: { scale: 'run', field: 'run' },
          description:
            "datum.run + ', epoch ' + datum.epoch + ' at ' + format(datum.minutes, '.1f') + ' min: ' + format(datum.value, '.4f')",
        },
      }),
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
