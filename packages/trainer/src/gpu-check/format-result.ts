/** One screen of `pnpm gpu:check` results. */
import { MAX_PROBABILITY_DIFFERENCE } from './compare-engines.ts';
import type { GpuCheckResult } from './run-gpu-check.ts';

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
const percent = (fraction: number) => `${(fraction * 100).toFixed(1)} %`;

export function formatGpuCheck(result: GpuCheckResult): string {
  const { plan, training, evaluation, doctor } = result;
  const rows: Array<[string, string]> = [
    ['doctor', doctorLine(doctor)],
    ['backend', result.backend],
    [
      'model',
      `ResNet-50 (blocks ${plan.blocks.join(',')}, width ${plan.width}) at ${plan.imageSize} px, batch ${plan.batchSize}, ${plan.steps} steps`,
    ],
    [
      'memory plan',
      training.planLine ??
        (training.microBatch ? `micro-batches of ${training.microBatch}` : 'whole batches (no plan printed)'),
    ],
    [
      'speed',
      training.imagesPerSecond
        ? `${training.imagesPerSecond.toFixed(1)} training images/s (steady state, between progress lines)`
        : 'not measured (too few progress lines)',
    ],
    [
      'peak memory',
      training.peakMemoryBytes
        ? `${gib(training.peakMemoryBytes)} ${training.peakMemoryOf === 'gpu' ? 'of GPU memory (nvidia-smi)' : 'resident (RSS) of the training process'}`
        : 'not measured',
    ],
    ['save/kill/resume', resumeLine(result)],
    ['evaluation', evaluation ? evaluationLine(evaluation) : 'not run (training failed)'],
    [
      'result',
      `${verdict(result)} in ${formatSeconds(result.seconds)}${training.problem ? `: ${training.problem}` : ''}`,
    ],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const head =
    result.mode === 'gpu'
      ? 'gpu:check on the GPU'
      : 'gpu:check: CPU FALLBACK. No GPU is visible, so this ran the same steps on the CPU at a smaller size: it checks the pipeline, not a GPU.';
  return [head, ...rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`)].join('\n');
}

function doctorLine(doctor: GpuCheckResult['doctor']): string {
  if (doctor.skipped) return 'skipped (--no-doctor)';
  if (!doctor.ok) return `FAILED: ${doctor.failed.join('; ')}`;
  const warnings = doctor.warned.length > 0 ? ` (${doctor.warned.length} warnings: pnpm run doctor)` : '';
  return `no check failed${warnings}`;
}

function resumeLine({ training, plan }: GpuCheckResult): string {
  if (training.savedAtStep === undefined) return 'not reached';
  const parts = [`saved at step ${training.savedAtStep}`];
  if (training.killedAfterStep !== undefined) {
    parts.push(
      `SIGKILL after step ${training.killedAfterStep}`,
      `latest still at step ${training.stepAfterKill}`,
    );
  }
  if (training.finalStep !== undefined) parts.push(`resumed to step ${training.finalStep} of ${plan.steps}`);
  return parts.join('; ');
}

function evaluationLine(evaluation: NonNullable<GpuCheckResult['evaluation']>): string {
  return (
    `${evaluation.images} test images: tfjs top-1 ${percent(evaluation.tfjsTop1)}, ONNX Runtime top-1 ${percent(evaluation.onnxTop1)}, ` +
    `${evaluation.disagreements} top-1 disagreements, max |Δp| ${evaluation.maxProbabilityDifference.toExponential(1)} ` +
    `(bound ${MAX_PROBABILITY_DIFFERENCE}): ${evaluation.ok ? 'same' : 'DIFFERENT'}`
  );
}

function verdict(result: GpuCheckResult): string {
  if (!result.ok) return 'FAIL';
  if (result.mode === 'gpu') return 'PASS';
  const doctor = result.doctor.ok ? '' : "; the doctor's failures above are what a GPU run would need";
  return `PASS (CPU fallback: the pipeline works${doctor})`;
}

function formatSeconds(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  return minutes > 0 ? `${minutes} min ${Math.round(seconds % 60)} s` : `${seconds.toFixed(0)} s`;
}
