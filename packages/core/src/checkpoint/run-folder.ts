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

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isFile() ?? false;
}
