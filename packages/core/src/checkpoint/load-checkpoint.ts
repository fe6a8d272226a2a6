import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { type Labels, parseLabels } from '../labels.ts';
import { type PreprocessConfig, parsePreprocessConfig } from '../preprocess/config.ts';
import { recoverFolder } from './atomic-folder.ts';
import { CheckpointError, corruptCheckpoint } from './checkpoint-error.ts';
import { type Checksums, type FileChecksum, readChecksums, verifyChecksums } from './checksums.ts';
import { type CheckpointMetrics, parseCheckpointMetrics } from './epoch-metrics.ts';
import { fileSystemHandler, readModelJson } from './file-system-handler.ts';
import { CHECKPOINT_FILES } from './layout.ts';
import { checkModelMatches } from './model-consistency.ts';
import { parseRunConfig, type ResolvedRunConfig } from './run-config.ts';
import { isRunFolder, notACheckpointError, runFolderError } from './run-folder.ts';
import type { CheckpointContents } from './save-checkpoint.ts';
import { decodeTrainingState, parseTrainingProgress, type TrainingProgress } from './training-state.ts';

/** Everything in a checkpoint except the model weights: cheap to read (for /api/model, quick checks). */
export interface CheckpointMetadata {
  dir: string;
  preprocess: PreprocessConfig;
  labels: Labels;
  runConfig: ResolvedRunConfig;
  metrics: CheckpointMetrics;
  hasTrainingState: boolean;
  /** Total size of the folder's files. */
  sizeBytes: number;
  /** Number of weights (trainable and not, e.g. BatchNorm moving statistics). */
  parameters: number;
  /** From checksums.json: sha256 and size per file (the weights' sha256 identifies the model). */
  files: Record<string, FileChecksum>;
}

/**
 * The parts saveCheckpoint wrote, and facts about the folder. The model is owned by the caller (dispose it,
 * or the engine that wraps it); `trainingState` is read only with `withTrainingState`, its tensors the
 * caller's too.
 */
export interface LoadedCheckpoint extends CheckpointContents {
  dir: string;
  /** Read back with every default filled in (settings added after the checkpoint was written). */
  runConfig: ResolvedRunConfig;
  sizeBytes: number;
  parameters: number;
}

/** For readers in a process that already ran `verifyCheckpoint` on the folder: skip the sha256 pass. */
export interface ReadOptions {
  verified?: boolean;
}

/**
 * Reads the metadata files. Checks every file's size and the sha256 of the JSON files it parses,
 * not of weights.bin (that is what makes it cheap); `loadCheckpoint` checks everything.
 */
export async function readCheckpointMetadata(
  dir: string,
  options: ReadOptions = {},
): Promise<CheckpointMetadata> {
  await openFolder(dir);
  const checksums = await readChecksums(dir);
  if (!options.verified) await verifyChecksums(dir, checksums, (name) => name.endsWith('.json'));
  return readMetadataFiles(dir, checksums);
}

/**
 * Checks every file of the folder, weights included, and reads its metadata: what a process that then
 * loads the checkpoint several times (the server's workers) does once, passing `verified: true` after.
 */
export async function verifyCheckpoint(dir: string): Promise<CheckpointMetadata> {
  await openFolder(dir);
  const checksums = await readChecksums(dir);
  await verifyChecksums(dir, checksums);
  return readMetadataFiles(dir, checksums);
}

/**
 * Loads a checkpoint folder: verifies every file against checksums.json, then builds the model and
 * checks it against labels.json and preprocess.json. Throws CheckpointError naming the bad file.
 */
export async function loadCheckpoint(
  dir: string,
  options: ReadOptions & { withTrainingState?: boolean } = {},
): Promise<LoadedCheckpoint> {
  await openFolder(dir);
  const checksums = await readChecksums(dir);
  if (!options.verified) await verifyChecksums(dir, checksums);
  const { hasTrainingState, files: _files, ...metadata } = await readMetadataFiles(dir, checksums);
  if (options.withTrainingState && !hasTrainingState) {
    throw new CheckpointError(
      `Checkpoint ${dir} has no ${CHECKPOINT_FILES.trainingState}/${CHECKPOINT_FILES.optimizer}, so training cannot resume from it; resume from one of the run's epoch-NNN folders instead.`,
      'CHECKPOINT_MISSING',
    );
  }

  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(fileSystemHandler(dir), { strict: true });
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    throw new CheckpointError(
      `Checkpoint ${dir}: ${CHECKPOINT_FILES.model} does not describe a model this version can build (${(error as Error).message}). Use a checkpoint written by this version of the trainer, another epoch-NNN folder, or retrain.`,
      'CHECKPOINT_MISMATCH',
      { cause: error },
    );
  }
  try {
    checkModelMatches(dir, model, metadata.labels, metadata.preprocess);
    const trainingState = options.withTrainingState
      ? decodeTrainingState(
          dir,
          await readFile(path.join(dir, CHECKPOINT_FILES.trainingState), 'utf8'),
          await readFile(path.join(dir, CHECKPOINT_FILES.optimizer)),
        )
      : undefined;
    return { ...metadata, model, trainingState, parameters: model.countParams() };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * The progress in `dir`'s training-state.json, unverified (cheap: for choosing where to resume; the
 * chosen folder is then verified and loaded). Undefined when it has none this version can resume from.
 */
export async function readTrainingProgress(
  dir: string,
): Promise<(TrainingProgress & { optimizerStep: number }) | undefined> {
  const json = await readFile(path.join(dir, CHECKPOINT_FILES.trainingState), 'utf8').catch(() => undefined);
  return json === undefined ? undefined : parseTrainingProgress(json);
}

/** Repairs an interrupted save of `dir` if possible, then checks that `dir` is a folder. */
async function openFolder(dir: string): Promise<void> {
  // Best effort: a read-only mount (e.g. the server's model volume) cannot be repaired, only read.
  await recoverFolder(dir).catch(() => undefined);
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new CheckpointError(
      `No checkpoint at ${dir}: ${info ? 'not a folder' : 'it does not exist'}. Pass a checkpoint folder such as checkpoints/RUN/best or checkpoints/RUN/epoch-003.`,
      'CHECKPOINT_MISSING',
    );
  }
  if (await isRunFolder(dir)) throw runFolderError(dir);
  const notACheckpoint = await notACheckpointError(dir);
  if (notACheckpoint) throw notACheckpoint;
}

async function readMetadataFiles(dir: string, checksums: Checksums): Promise<CheckpointMetadata> {
  const wrap = <T>(file: string, parse: () => T): T => {
    try {
      return parse();
    } catch (error) {
      throw corruptCheckpoint(dir, file, `is invalid: ${(error as Error).message}`, error);
    }
  };
  const preprocessJson = await readJson(dir, CHECKPOINT_FILES.preprocess);
  const labelsJson = await readJson(dir, CHECKPOINT_FILES.labels);
  const runConfigJson = await readJson(dir, CHECKPOINT_FILES.runConfig);
  const metricsJson = await readJson(dir, CHECKPOINT_FILES.metrics);
  const modelJson = await readModelJson(dir);
  const sizeBytes = Object.values(checksums.files).reduce((sum, file) => sum + file.bytes, 0);
  return {
    dir,
    preprocess: wrap(CHECKPOINT_FILES.preprocess, () => parsePreprocessConfig(preprocessJson)),
    labels: wrap(CHECKPOINT_FILES.labels, () => parseLabels(labelsJson)),
    runConfig: wrap(CHECKPOINT_FILES.runConfig, () => parseRunConfig(runConfigJson)),
    metrics: wrap(CHECKPOINT_FILES.metrics, () => parseCheckpointMetrics(metricsJson)),
    hasTrainingState: CHECKPOINT_FILES.trainingState in checksums.files,
    sizeBytes: sizeBytes + (await stat(path.join(dir, CHECKPOINT_FILES.checksums))).size,
    parameters: modelJson.weightsManifest
      .flatMap((group) => group.weights)
      .reduce((sum, weight) => sum + weight.shape.reduce((product, side) => product * side, 1), 0),
    files: checksums.files,
  };
}

async function readJson(dir: string, name: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path.join(dir, name), 'utf8'));
  } catch (error) {
    throw corruptCheckpoint(dir, name, 'is not valid JSON', error);
  }
}
