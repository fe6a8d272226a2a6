import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { Labels } from '../labels.ts';
import { type PreprocessConfig, parsePreprocessConfig } from '../preprocess/config.ts';
import { writeFolderAtomically } from './atomic-folder.ts';
import { CheckpointError } from './checkpoint-error.ts';
import { computeChecksums } from './checksums.ts';
import type { CheckpointMetrics } from './epoch-metrics.ts';
import { type CheckpointFileSystem, nodeFileSystem } from './file-system.ts';
import { fileSystemHandler } from './file-system-handler.ts';
import { CHECKPOINT_FILES } from './layout.ts';
import { checkModelMatches } from './model-consistency.ts';
import type { RunConfig } from './run-config.ts';
import { encodeTrainingState, type TrainingState } from './training-state.ts';

export interface CheckpointContents {
  model: tf.LayersModel;
  preprocess: PreprocessConfig;
  labels: Labels;
  /** Every setting of the run, so a checkpoint says how it was made. */
  runConfig: RunConfig;
  /** The epoch's history row and the run's best, or the step a mid-epoch save stopped at. */
  metrics: CheckpointMetrics;
  /** Present in epoch-NNN folders so `--resume` is exact; absent in exported models. */
  trainingState?: TrainingState;
}

export interface SaveCheckpointOptions {
  /** Where the bytes go; tests pass a file system that fails like a full disk. */
  fileSystem?: CheckpointFileSystem;
}

/**
 * Writes a complete, checksummed checkpoint folder and atomically puts it in place of `dir`.
 * On any failure (full disk included) the previous `dir` is untouched and a CheckpointError says so.
 */
export async function saveCheckpoint(
  dir: string,
  contents: CheckpointContents,
  options: SaveCheckpointOptions = {},
): Promise<void> {
  const fileSystem = options.fileSystem ?? nodeFileSystem;
  const preprocess = parsePreprocessConfig(contents.preprocess);
  checkModelMatches(dir, contents.model, contents.labels, preprocess);

  try {
    await writeFolderAtomically(
      dir,
      async (tmp) => {
        const written: string[] = [];
        const write = async (name: string, data: Uint8Array | string) => {
          await fileSystem.writeFile(path.join(tmp, name), data);
          written.push(name);
        };
        const writeJson = (name: string, value: unknown) =>
          write(name, `${JSON.stringify(value, null, 2)}\n`);

        await contents.model.save(fileSystemHandler(tmp, fileSystem));
        written.push(CHECKPOINT_FILES.model, CHECKPOINT_FILES.weights);
        await writeJson(CHECKPOINT_FILES.preprocess, preprocess);
        await writeJson(CHECKPOINT_FILES.labels, { classes: contents.labels.classes });
        await writeJson(CHECKPOINT_FILES.runConfig, contents.runConfig);
        await writeJson(CHECKPOINT_FILES.metrics, contents.metrics);
        if (contents.trainingState) {
          const encoded = await encodeTrainingState(contents.trainingState);
          await write(CHECKPOINT_FILES.optimizer, encoded.optimizer);
          await write(CHECKPOINT_FILES.trainingState, encoded.json);
        }
        // Hash what landed on disk, not what we meant to write. checksums.json is written last,
        // so a folder that has it is complete.
        await writeJson(CHECKPOINT_FILES.checksums, await computeChecksums(tmp, written));
      },
      fileSystem,
    );
  } catch (error) {
    throw writeFailed(dir, error, contents.model.countParams() * 4);
  }
}

/** The message a user sees when a save fails; shared with updateLink. */
export function writeFailed(dir: string, error: unknown, approximateBytes: number): CheckpointError {
  const code = (error as NodeJS.ErrnoException).code;
  const diskFull = code === 'ENOSPC' || code === 'EDQUOT';
  const megabytes = Math.ceil(approximateBytes / 1e6);
  const next = diskFull
    ? `Free disk space (a checkpoint needs about ${megabytes} MB, twice that while it is replaced)`
    : 'Fix the cause (is the folder writable?)';
  return new CheckpointError(
    `Could not save checkpoint ${dir}: ${(error as Error).message ?? String(error)}. ` +
      `The previous checkpoint at ${dir} (if there was one) is intact; the partial copy was removed. ` +
      `${next}, then continue training with --resume from the run's latest checkpoint.`,
    'CHECKPOINT_WRITE_FAILED',
    { cause: error },
  );
}
