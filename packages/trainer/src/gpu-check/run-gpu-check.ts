/**
 * `pnpm gpu:check`: the first command on a new GPU box. The doctor; then 100 training steps of the full
 * ResNet-50 at 224 px on synthetic Food-101-layout data at the micro-batch `--accumulate auto` plans,
 * with images/s and peak GPU memory; a save, a SIGKILL and a resume of a real `pnpm train` process; and
 * the checkpoint evaluated on the training backend and on ONNX Runtime, compared. Without a GPU the same
 * steps run on the CPU at the smaller size of ./check-plan.ts, and the result says so.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { runPaths } from '@food/core/checkpoint/run-layout';
import { DEFAULT_PREPROCESS, withCropSize } from '@food/core/preprocess/config';
import { prepareDataset } from '../data/prepare.ts';
import { readManifest } from '../data/prepared-set.ts';
import { computeTrainingStats } from '../data/stats.ts';
import { synthesizeDataset } from '../data/synth.ts';
import type { CheckResult } from '../doctor/check-result.ts';
import { queryNvidiaSmi, visibleGpus } from '../doctor/nvidia-smi.ts';
import { runDoctor } from '../doctor/run-doctor.ts';
import { type CheckPlan, checkPlan, type PlanOverrides } from './check-plan.ts';
import { compareEngines, type EngineComparison } from './compare-engines.ts';
import { runResumeDrill, type TrainingReport } from './resume-drill.ts';

export interface GpuCheckOptions {
  overrides?: PlanOverrides;
  /** Keep the synthetic data and the run here instead of a temporary folder that is removed. */
  workDir?: string;
  log: (line: string) => void;
  /** The doctor's checks (default: `pnpm run doctor`'s); null skips the doctor. */
  doctor?: (() => Promise<CheckResult[]>) | null;
  /** Whether nvidia-smi shows a GPU this process may use (default: asks it). */
  hasGpu?: () => Promise<boolean>;
}

export interface GpuCheckResult {
  ok: boolean;
  mode: CheckPlan['mode'];
  plan: CheckPlan;
  backend: string;
  doctor: { ok: boolean; failed: string[]; warned: string[]; skipped?: true };
  training: TrainingReport;
  evaluation?: EngineComparison;
  seconds: number;
}

export async function runGpuCheck(options: GpuCheckOptions): Promise<GpuCheckResult> {
  const started = performance.now();
  const { log } = options;
  const hasGpu = await (options.hasGpu ?? detectGpu)();
  const plan = checkPlan(hasGpu, options.overrides);
  log(
    hasGpu
      ? `gpu:check: a GPU is visible: ${plan.steps} steps of ResNet-50 (width ${plan.width}) at ${plan.imageSize} px, batch ${plan.batchSize}`
      : `gpu:check: NO GPU visible (nvidia-smi): running the CPU fallback, ${plan.steps} steps of ResNet-50 at width ${plan.width}, ${plan.imageSize} px, batch ${plan.batchSize}. This checks the pipeline, not a GPU.`,
  );
  const doctor = await runDoctorStep(options);
  const workDir = options.workDir ?? (await mkdtemp(path.join(tmpdir(), 'gpu-check-')));
  try {
    const prepared = await prepareSyntheticData(workDir, plan, log);
    const runDir = path.join(workDir, 'run');
    const training = await runResumeDrill({ plan, prepared, runDir, log });
    // float32 on both sides: TF32 would round the GPU side's matrix products (see compare-engines.ts).
    process.env.NVIDIA_TF32_OVERRIDE = '0';
    const backend = await initBackend(plan.backend, () => {});
    const backendName = `${backend.name}${backend.gpu ? ' (GPU)' : ' (CPU)'}`;
    let evaluation: EngineComparison | undefined;
    if (training.ok) {
      log(`gpu:check: evaluating ${runPaths(runDir).latest} on ${backendName} and on ONNX Runtime (CPU)…`);
      evaluation = await compareEngines({
        checkpoint: runPaths(runDir).latest,
        prepared,
        images: plan.evalImages,
      });
    }
    // Without a GPU the doctor's GPU checks (driver, CUDA libraries, the GPU binding) fail by nature: the
    // fallback's verdict is the pipeline's, and the doctor's line still lists what it found.
    const ok = (doctor.ok || plan.mode === 'cpu-fallback') && training.ok && evaluation?.ok === true;
    if (doctor.skipped) log('gpu:check: the doctor was skipped (--no-doctor): run `pnpm run doctor` too');
    const seconds = (performance.now() - started) / 1000;
    return { ok, mode: plan.mode, plan, backend: backendName, doctor, training, evaluation, seconds };
  } finally {
    if (!options.workDir) await rm(workDir, { recursive: true, force: true });
  }
}

async function detectGpu(): Promise<boolean> {
  const smi = await queryNvidiaSmi();
  return smi.status === 'ok' && visibleGpus(smi.gpus, process.env.CUDA_VISIBLE_DEVICES).length > 0;
}

async function runDoctorStep(options: GpuCheckOptions): Promise<GpuCheckResult['doctor']> {
  if (options.doctor === null) return { ok: true, failed: [], warned: [], skipped: true };
  options.log('gpu:check: doctor…');
  return summarizeDoctor(await (options.doctor ?? (() => runDoctor()))());
}

function summarizeDoctor(checks: CheckResult[]): GpuCheckResult['doctor'] {
  const named = (status: CheckResult['status']) =>
    checks.filter((check) => check.status === status).map((check) => `${check.name}: ${check.detail}`);
  return { ok: named('fail').length === 0, failed: named('fail'), warned: named('warn') };
}

/** `trainer synth` + `prepare` + `stats`, as a user would run them, at the plan's image size. */
async function prepareSyntheticData(workDir: string, plan: CheckPlan, log: (line: string) => void) {
  const dataRoot = path.join(workDir, 'food');
  const prepared = path.join(workDir, 'prepared');
  log(`gpu:check: synthetic data: ${plan.classes} classes × ${plan.imagesPerClass} images…`);
  await synthesizeDataset({
    outDir: dataRoot,
    classes: plan.classes,
    imagesPerClass: plan.imagesPerClass,
    seed: 7,
  });
  await prepareDataset({
    dataRoot,
    outDir: prepared,
    selection: { count: plan.classes },
    seed: 42,
    valFraction: 0.1,
  });
  // stats keeps an existing preprocess.json's geometry: the plan's image size, resized as the recipe's.
  await mkdir(prepared, { recursive: true });
  await writeFile(
    path.join(prepared, 'preprocess.json'),
    JSON.stringify(withCropSize(DEFAULT_PREPROCESS, plan.imageSize)),
  );
  await computeTrainingStats({ preparedDir: prepared });
  const manifest = await readManifest(prepared);
  log(`gpu:check: ${manifest.splits.train.length} training, ${manifest.splits.test.length} test images`);
  return prepared;
}
