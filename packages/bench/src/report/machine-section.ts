/** What the numbers were measured on: CPU, memory, runtime and library versions, load at the start. */
import type { BenchResults } from '../run-bench.ts';
import { table } from './format.ts';

export function machineSection({ machine, pytorch }: BenchResults): string[] {
  return [
    '## Machine',
    '',
    table(
      ['', ''],
      [
        ['CPU', `${machine.cpuModel}, ${machine.cores} cores`],
        ['Memory', `${machine.memoryGiB.toFixed(1)} GiB`],
        ['OS', machine.platform],
        ['Node', machine.node],
        ['@tensorflow/tfjs', machine.tfjs],
        ...Object.entries(machine.packages).map(([name, version]) => [name, version]),
        [
          'PyTorch',
          pytorch?.version
            ? `${pytorch.version} (${pytorch.threads} threads)`
            : `not measured (${pytorch?.unavailable ?? 'not run'})`,
        ],
        [
          'Load average at start',
          `${machine.loadAverage.map((l) => l.toFixed(2)).join(' / ')} (1 / 5 / 15 min)`,
        ],
      ],
    ),
    '',
  ];
}
