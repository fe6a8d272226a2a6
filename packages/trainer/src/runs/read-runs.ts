/**
 * `pnpm runs`: what a folder of runs holds, read through the same functions that write it (the
 * checkpoint reader for run-config.json and metrics.json, readHistory for history.json) and the
 * evaluation reports that `pnpm evaluate` wrote about them.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isEpochMetrics } from '@food/core/checkpoint/epoch-metrics';
import { CHECKPOINT_FILES } from '@food/core/checkpoint/layout';
import { readCheckpointMetadata } from '@food/core/checkpoint/load-checkpoint';
import { runPaths } from '@food/core/checkpoint/run-layout';
import { readTestReads } from '@food/core/checkpoint/test-reads';
import { parseTrainingProgress } from '@food/core/checkpoint/training-state';
import { UserError } from '@food/core/errors';
import { readEvaluationMetricsIfPresent } from '@food/core/report/report-metrics-file';
import { type EpochRecord, readHistory } from '../train/history.ts';
import { comparedValue, NOT_EXPERIMENT_SETTINGS } from './recipe.ts';

/** Headline numbers of a `pnpm evaluate --split test` report about a run's checkpoint. */
export interface TestReport {
  /** The report folder (`pnpm evaluate --out`). */
  dir: string;
  checkpoint: string;
  numImages: number;
  top1: number;
  top5: number;
  macroF1: number;
  macroPrecision: number;
  macroRecall: number;
  latencyP50Ms: number;
  imagesPerSecond: number;
  backend: string;
  evaluatedAt: string;
}

export interface RunSummary {
  name: string;
  dir: string;
  epochsDone: number;
  epochsPlanned: number;
  /** Optimizer steps already taken into the next epoch (a run stopped mid-epoch); 0 at a boundary. */
  stepsIntoNextEpoch: number;
  /** Validation top-1 of `best` and its epoch; null before the first epoch ends. */
  bestValTop1: number | null;
  bestEpoch: number | null;
  /** The newest test-split report whose checkpoint is in this run; null when none was found. */
  test: TestReport | null;
  /** Reads of the test split on the run's record (RUN/test-reads.json, written by `pnpm evaluate`). */
  testReads: number;
  /** Sum of the completed epochs' times (training + validation) from history.json. */
  trainingSeconds: number;
  /**
   * The run's wall time: its epochs and the start-up of each command that trained it (the feature cache
   * included), from `latest`'s training state; null for a run from before that was recorded.
   */
  wallSeconds: number | null;
  /** run-config.json as saved: every setting of the run (TrainConfig's fields). */
  config: Record<string, unknown>;
  history: EpochRecord[];
}

/** Every run (a folder with a `latest` checkpoint) directly inside `dir`, by name. */
export async function readRuns(dir: string, reportsDir: string): Promise<RunSummary[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') {
      throw new UserError(`${dir} does not exist. Pass the folder that holds your runs with --dir.`);
    }
    throw error;
  });
  const reports = await readTestReports(reportsDir);
  const runs: RunSummary[] = [];
  for (const entry of entries.filter((candidate) => candidate.isDirectory()).sort(byName)) {
    const runDir = path.join(dir, entry.name);
    if (await isFolder(runPaths(runDir).latest)) runs.push(await readRun(runDir, reports));
  }
  return runs;
}

/** One run folder (`checkpoints/RUN`), given the test reports to look its checkpoints up in. */
export async function readRun(runDir: string, reports: readonly TestReport[]): Promise<RunSummary> {
  const files = runPaths(runDir);
  if (!(await isFolder(files.latest))) {
    throw new UserError(
      `${runDir} is not a training run: it has no latest/ checkpoint. Pass a folder written by \`pnpm train --out\`.`,
    );
  }
  const latest = await readCheckpointMetadata(files.latest);
  const best = (await isFolder(files.best)) ? await readCheckpointMetadata(files.best) : undefined;
  const history = await readHistory(runDir);
  const bestRecord = best && isEpochMetrics(best.metrics) ? best.metrics : undefined;
  const trainingSeconds = history.reduce((sum, record) => sum + record.seconds, 0);
  const setupSeconds = await readSetupSeconds(files.latest);
  return {
    name: path.basename(path.resolve(runDir)),
    dir: runDir,
    epochsDone: latest.metrics.epoch,
    epochsPlanned: latest.runConfig.epochs,
    stepsIntoNextEpoch: isEpochMetrics(latest.metrics) ? 0 : latest.metrics.stepInEpoch,
    bestValTop1: bestRecord?.valTop1 ?? null,
    bestEpoch: bestRecord?.epoch ?? null,
    test: newestReportOf(runDir, reports),
    testReads: (await readTestReads(runDir)).length,
    trainingSeconds,
    wallSeconds: setupSeconds === undefined ? null : setupSeconds + trainingSeconds,
    config: { ...latest.runConfig },
    history,
  };
}

/** The start-up seconds on record in a checkpoint's training state (training-state.ts), if any. */
async function readSetupSeconds(checkpointDir: string): Promise<number | undefined> {
  const text = await readFile(path.join(checkpointDir, CHECKPOINT_FILES.trainingState), 'utf8').catch(
    () => undefined,
  );
  return text === undefined ? undefined : parseTrainingProgress(text)?.setupSeconds;
}

/**
 * Test-split reports (`REPORTS/*\/metrics.json` written by `pnpm evaluate`); none when the folder is absent.
 * A folder without metrics.json is skipped; a metrics.json that is not a report stops with a ReportError.
 */
export async function readTestReports(reportsDir: string): Promise<TestReport[]> {
  const entries = await readdir(reportsDir, { withFileTypes: true }).catch(() => []);
  const reports: TestReport[] = [];
  for (const entry of entries.filter((candidate) => candidate.isDirectory()).sort(byName)) {
    const dir = path.join(reportsDir, entry.name);
    const metrics = await readEvaluationMetricsIfPresent(dir);
    if (metrics?.split !== 'test') continue;
    reports.push({
      dir,
      checkpoint: metrics.checkpoint,
      numImages: metrics.numImages,
      top1: metrics.accuracy,
      top5: metrics.top5Accuracy,
      macroF1: metrics.f1.macro,
      macroPrecision: metrics.precision.macro,
      macroRecall: metrics.recall.macro,
      latencyP50Ms: metrics.latency.endToEnd.p50Ms,
      imagesPerSecond: metrics.throughput.imagesPerSecond,
      backend: metrics.backend,
      evaluatedAt: metrics.evaluatedAt,
    });
  }
  return reports;
}

/**
 * The newest report about a checkpoint of this run (`RUN/best`, `RUN/epoch-003`, ...). Report paths are
 * as `pnpm evaluate` was given them, relative to where it ran: like `pnpm runs`, the repository root.
 */
function newestReportOf(runDir: string, reports: readonly TestReport[]): TestReport | null {
  const run = path.resolve(runDir);
  const mine = reports.filter((report) => path.dirname(path.resolve(report.checkpoint)) === run);
  return mine.sort((a, b) => b.evaluatedAt.localeCompare(a.evaluatedAt))[0] ?? null;
}

/** Settings whose values are not the same in every run (an absent one counts as its default). */
export function differingSettings(runs: readonly RunSummary[]): string[] {
  const keys = [...new Set(runs.flatMap((run) => Object.keys(run.config)))].filter(
    (key) => !NOT_EXPERIMENT_SETTINGS.has(key),
  );
  return keys.filter((key) => new Set(runs.map((run) => comparedValue(run.config, key))).size > 1);
}

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

async function isFolder(file: string): Promise<boolean> {
  return stat(file).then(
    (info) => info.isDirectory(),
    () => false,
  );
}
