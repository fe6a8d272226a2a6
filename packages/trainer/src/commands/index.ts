import type { Command } from 'commander';
import { register as registerDownload } from './download.ts';
import { register as registerEvaluate } from './evaluate.ts';
import { register as registerExport } from './export.ts';
import { register as registerGpuCheck } from './gpu-check.ts';
import { register as registerImportWeights } from './import-weights.ts';
import { register as registerPrepare } from './prepare.ts';
import { register as registerRuns } from './runs.ts';
import { register as registerStats } from './stats.ts';
import { register as registerSynth } from './synth.ts';
import { register as registerTrain } from './train.ts';

/** Each command module exports `register(program)`; add new commands to this list. */
export const commands: Array<(program: Command) => void> = [
  registerSynth,
  registerDownload,
  registerPrepare,
  registerStats,
  registerImportWeights,
  registerTrain,
  registerEvaluate,
  registerExport,
  registerRuns,
  registerGpuCheck,
];
