import { stat } from 'node:fs/promises';
import path from 'node:path';
import { CheckpointError } from './checkpoint-error.ts';
import { CHECKPOINT_FILES } from './layout.ts';
import { runPaths } from './run-layout.ts';

/**
 * A training run folder (`checkpoints/RUN`: epoch-NNN, latest, best, history) is not a checkpoint,
 * but it is what people type for `--checkpoint`. Its `best` is the checkpoint they mean.
 */
export async function isRunFolder(dir: string): Promise<boolean> {
  return (
    !(await isFile(path.join(dir, CHECKPOINT_FILES.checksums))) &&
    (await isFile(path.join(runPaths(dir).best, CHECKPOINT_FILES.checksums)))
  );
}

/** `dir`, or its `best` with a note saying so when `dir` is a run folder. */
export async function resolveRunFolder(dir: string): Promise<{ dir: string; note?: string }> {
  if (!(await isRunFolder(dir))) return { dir };
  const { best } = runPaths(dir);
  return { dir: best, note: `${dir} is a training run folder: using its best checkpoint, ${best}` };
}

/** For readers that take a checkpoint folder only: the error that names the one they probably meant. */
export function runFolderError(dir: string): CheckpointError {
  return new CheckpointError(
    `${dir} is a training run folder, not a checkpoint: did you mean ${runPaths(dir).best} (its best epoch) or ${runPaths(dir).latest}?`,
    'CHECKPOINT_MISSING',
  );
}

/**
 * A folder with neither checksums.json nor model.json is no checkpoint, not a corrupt one (an
 * interrupted save leaves model.json): the error says so, and what a checkpoint is. Undefined otherwise.
 */
export async function notACheckpointError(dir: string): Promise<CheckpointError | undefined> {
  const has = (name: string) => isFile(path.join(dir, name));
  if ((await has(CHECKPOINT_FILES.checksums)) || (await has(CHECKPOINT_FILES.model))) return undefined;
  // What `pnpm evaluate --out` writes: the folder people most often mistake for a checkpoint.
  const what = (await has(EVALUATION_REPORT_PAGE))
    ? 'it is an evaluation report (pnpm evaluate --out)'
    : `it has no ${CHECKPOINT_FILES.checksums} or ${CHECKPOINT_FILES.model}`;
  return new CheckpointError(
    `${dir} is not a checkpoint: ${what}. Pass a checkpoint folder that pnpm train wrote, such as checkpoints/RUN/best or checkpoints/RUN/epoch-003 (pnpm runs lists the runs).`,
    'CHECKPOINT_MISSING',
  );
}

const EVALUATION_REPORT_PAGE = 'report.html';

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isFile() ?? false;
}
