/**
 * The per-epoch line panel that the run's training curves and `pnpm runs compare` both draw (the
 * comparison's time-to-accuracy chart puts minutes on x instead of epochs).
 */
import type {
  Axis,
  ColorValueRef,
  Compare,
  GroupMark,
  Legend,
  LineEncodeEntry,
  Scale,
  ScaleData,
} from 'vega';

/** One panel of per-epoch values: what the report's curves and `pnpm runs`' comparison both draw. */
export interface EpochPanel {
  /** The `panel` value of its points in the `points` table. */
  name: string;
  title: string;
  size: { width: number; height: number };
  axis: Partial<Axis>;
  /** The x field and its axis (default: whole epochs); `zero` starts the axis at 0. */
  x?: { field: string; axis: Partial<Axis>; zero?: boolean };
  /** The y domain; the panel's values when absent. */
  domain?: ScaleData | number[];
  /** Scales besides x and y (value). */
  scales?: Scale[];
  legends?: Legend[];
  /** One line per group of `groupby`, drawn with `encode` besides x and y. */
  lines: { groupby: string | string[]; sort?: Compare; encode: LineEncodeEntry };
  /** A dot per point, described for screen readers and hover. */
  points: { size: number; fill: ColorValueRef; description: string };
}

const EPOCH_AXIS: NonNullable<EpochPanel['x']> = {
  field: 'epoch',
  axis: { title: 'epoch', tickMinStep: 1, format: 'd' },
};

export function epochPanel(panel: EpochPanel): GroupMark {
  const x = panel.x ?? EPOCH_AXIS;
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
      {
        name: 'x',
        type: 'linear',
        domain: { data: points, field: x.field },
        range: [0, width],
        zero: x.zero ?? false,
      },
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
      { orient: 'bottom', scale: 'x', ...x.axis },
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
                x: { scale: 'x', field: x.field },
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
            x: { scale: 'x', field: x.field },
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
