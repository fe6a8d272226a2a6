/** The report's title and what the reader must know first: the command, the model, and warnings. */
import { isLoaded } from '../machine.ts';
import { type BenchResults, formatDuration, SECTIONS } from '../run-bench.ts';
import { isResNet50 } from './pick-measurements.ts';

/** The `pnpm bench` command line that reproduces this run. */
function commandLine({ options }: BenchResults): string {
  return `pnpm bench${options.quick ? ' --quick' : ''} --runs ${options.runs}${
    options.sections.length < SECTIONS.length ? ` --only ${options.sections.join(',')}` : ''
  }${options.trainBatches ? ` --train-batches ${options.trainBatches.join(',')}` : ''}`;
}

function modelName({ model }: BenchResults): string {
  return isResNet50(model)
    ? `ResNet-50 v1 at ${model.inputSize}×${model.inputSize}, ${model.numClasses} classes`
    : `tiny ResNet (width ×${model.widthMultiplier}, blocks ${model.blocksPerStage.join('/')}) at ${model.inputSize}×${model.inputSize}`;
}

export function headerSection(results: BenchResults): string[] {
  const { options } = results;
  const out = [
    '# Benchmarks',
    '',
    `Written by \`${commandLine(results)}\` (packages/bench/src/) on ${results.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC; ` +
      `the run took ${formatDuration(results.seconds)}. Model: ${modelName(results)}. Every number is the **median of ${options.runs} run${options.runs === 1 ? '' : 's'} ` +
      `after one warm-up run, with (min–max)**; each measurement ran in its own Node process.`,
    '',
  ];
  if (options.note) out.push(`> Note: ${options.note}`, '');
  if (options.quick) {
    out.push(
      '> **`--quick` run: a tiny model and few images. These numbers check the harness, not the speed.**',
      '',
    );
  }
  out.push(...loadWarning(results));
  for (const line of results.skipped) out.push(`> ${line}`, '');
  return out;
}

function loadWarning({ machine }: BenchResults): string[] {
  const { cores, loadAverage: load } = machine;
  if (!isLoaded(load[0], cores)) return [];
  return [
    `> **Warning: the machine was loaded.** Load average at the start ${load.map((l) => l.toFixed(2)).join(' / ')} ` +
      `(1 / 5 / 15 min) on ${cores} cores: other work shared the CPU, so absolute times are inflated and noisy. ` +
      'The "load" column gives the 1-minute load average when each measurement started. PyTorch ran in the same ' +
      'conditions, so the ratios are fairer than the absolute numbers, but not exact: the more threads a ' +
      'measurement uses, the more it suffers from sharing the cores (threads wait for each other).',
    '',
  ];
}
