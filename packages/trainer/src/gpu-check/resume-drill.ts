/**
 * The training part of the check, as three real `pnpm train` processes on one run folder: train to the
 * plan's midpoint and save (`--max-steps`); resume and SIGKILL it after it passed a step; resume again to
 * the end. The run must end at the planned step, and the kill must lose only the steps after the save.
 */
import { readTrainingProgress } from '@food/core/checkpoint/load-checkpoint';
import { runPaths } from '@food/core/checkpoint/run-layout';
import { readManifest } from '../data/prepared-set.ts';
import type { CheckPlan } from './check-plan.ts';
import { imagesPerSecond, runTrainPhase, type TrainPhase } from './train-child.ts';

export interface TrainingReport {
  ok: boolean;
  /** What went wrong, when not ok. */
  problem?: string;
  planLine?: string;
  microBatch?: number;
  imagesPerSecond?: number;
  /** Peak GPU memory (nvidia-smi) or peak RSS of the training process (CPU), bytes. */
  peakMemoryBytes?: number;
  peakMemoryOf: 'gpu' | 'host';
  savedAtStep?: number;
  killedAfterStep?: number;
  stepAfterKill?: number;
  finalStep?: number;
  seconds: number;
}

export async function runResumeDrill(options: {
  plan: CheckPlan;
  prepared: string;
  runDir: string;
  log: (line: string) => void;
}): Promise<TrainingReport> {
  const { plan, runDir, log } = options;
  const started = performance.now();
  const args = await trainArguments(plan, options.prepared, runDir);
  const memory = plan.mode === 'gpu' ? 'gpu' : 'host';
  const timeoutMs = plan.mode === 'gpu' ? 420_000 : 300_000;
  const onLine = (line: string) => log(`    ${line}`);
  const report: TrainingReport = { ok: false, peakMemoryOf: memory, seconds: 0 };
  const finish = (problem?: string) =>
    Object.assign(report, {
      ok: problem === undefined,
      problem,
      seconds: (performance.now() - started) / 1000,
    });

  log(`gpu:check: train to step ${plan.saveAt} and save…`);
  const first = await runTrainPhase([...args, '--max-steps', `${plan.saveAt}`], {
    memory,
    timeoutMs,
    onLine,
  });
  Object.assign(report, { planLine: first.planLine, microBatch: first.microBatch });
  report.savedAtStep = await latestStep(runDir);
  if (first.code !== 0 || report.savedAtStep !== plan.saveAt) return finish(failure('the first run', first));

  log(`gpu:check: resume, then SIGKILL the training process after step ${plan.saveAt + 1}…`);
  const killed = await runTrainPhase([...args, '--resume', '--max-steps', `${plan.steps}`], {
    ...{ memory, timeoutMs, onLine },
    killAtStep: plan.saveAt + 1,
  });
  report.killedAfterStep = killed.steps.at(-1)?.globalStep;
  report.stepAfterKill = await latestStep(runDir);
  if (killed.signal !== 'SIGKILL' || report.killedAfterStep === undefined) {
    return finish(failure('the run to be killed (it should have been killed mid-run)', killed));
  }
  if (report.stepAfterKill !== plan.saveAt)
    return finish(`after the kill, latest is at step ${report.stepAfterKill}, not ${plan.saveAt}`);

  log(`gpu:check: resume after the kill and train to step ${plan.steps}…`);
  const last = await runTrainPhase([...args, '--resume', '--max-steps', `${plan.steps}`], {
    memory,
    timeoutMs,
    onLine,
  });
  report.finalStep = await latestStep(runDir);
  const peaks = [first, killed, last].map((phase) => phase.peakMemoryBytes ?? 0);
  report.peakMemoryBytes = Math.max(...peaks) || undefined;
  report.imagesPerSecond =
    imagesPerSecond([...first.steps, ...last.steps], plan.batchSize) ??
    imagesPerSecond(last.steps, plan.batchSize);
  if (last.code !== 0 || report.finalStep !== plan.steps) return finish(failure('the resumed run', last));
  return finish();
}

async function trainArguments(plan: CheckPlan, prepared: string, runDir: string): Promise<string[]> {
  const trainImages = (await readManifest(prepared)).splits.train.length;
  const epochs = Math.ceil(plan.steps / Math.ceil(trainImages / plan.batchSize)) + 1;
  return [
    ...['--prepared', prepared, '--out', runDir, '--weights', 'none', '--backend', plan.backend],
    ...['--width', `${plan.width}`, '--blocks', plan.blocks.join(','), '--image-size', `${plan.imageSize}`],
    ...['--batch-size', `${plan.batchSize}`, '--epochs', `${epochs}`, '--export', 'none', '--no-progress'],
  ];
}

async function latestStep(runDir: string): Promise<number | undefined> {
  return (await readTrainingProgress(runPaths(runDir).latest))?.globalStep;
}

function failure(what: string, phase: TrainPhase): string {
  const how = phase.signal ? `was killed by ${phase.signal}` : `exited with code ${phase.code}`;
  const tail = phase.stderrTail.trim().split('\n').slice(-3).join(' | ');
  return `${what} ${how} after ${phase.seconds.toFixed(0)} s: ${tail}`;
}
