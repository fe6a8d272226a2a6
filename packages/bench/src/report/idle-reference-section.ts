/** The targets against PyTorch on an idle machine, the comparison to quote when the run was loaded. */
import type { BenchResults } from '../run-bench.ts';
import { formatRatio, passCell, table } from './format.ts';
import { computeTargets, FASTEST_BATCH_TARGET } from './targets.ts';

/**
 * PyTorch 1.13 with 2 threads on an idle machine of this kind, as measured when the targets were set
 * (forward 57–61 ms/image, train step 160–210 ms/image). A loaded machine slows multi-threaded
 * PyTorch more than single-threaded measurements, so ratios against the same-run PyTorch can flatter us; this
 * table states the comparison against the idle reference too, with the upper (kinder) bound.
 */
const IDLE_PYTORCH_MS = { forward: 61, train: 210 } as const;

export function idleReferenceSection(results: BenchResults): string[] {
  const rows = computeTargets(results)
    .filter((target) => target.name !== FASTEST_BATCH_TARGET)
    .flatMap((target) => {
      const ours = target.oursMs;
      if (ours === undefined || !target.against) return [];
      const { measure, limit } = target.against;
      const reference = IDLE_PYTORCH_MS[measure];
      const ratio = ours / reference;
      return [
        [
          target.name,
          target.ours,
          `${reference}`,
          formatRatio(ratio),
          `≤ ${limit}×`,
          passCell(ratio <= limit),
        ],
      ];
    });
  if (rows.length === 0) return [];
  return [
    '### Against the idle-machine PyTorch reference',
    '',
    `PyTorch 1.13, 2 threads, idle machine of this kind (the figures the targets were set against, measured before this bench existed, not in this run): forward ${IDLE_PYTORCH_MS.forward} ms/image, train step ${IDLE_PYTORCH_MS.train} ms/image (upper bounds of the quoted ranges). This is the comparison to quote when the run above was loaded.`,
    '',
    table(['Target', 'Ours', 'PyTorch idle, ms/image', 'Ratio', 'Goal', 'Result'], rows),
    '',
  ];
}
