import { UserError } from '../errors.ts';

export type CheckpointErrorCode =
  | 'CHECKPOINT_MISSING'
  | 'CHECKPOINT_CORRUPT'
  | 'CHECKPOINT_MISMATCH'
  | 'CHECKPOINT_WRITE_FAILED';

/** A checkpoint folder that cannot be read or written; the message names the file and the next step. */
export class CheckpointError extends UserError {
  override name = 'CheckpointError';
  constructor(message: string, code: CheckpointErrorCode, options?: { cause?: unknown }) {
    super(message, code);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** The error for a file that is missing, truncated or altered. */
export function corruptCheckpoint(dir: string, file: string, why: string, cause?: unknown): CheckpointError {
  return new CheckpointError(
    `Checkpoint ${dir}: ${file} ${why}; the checkpoint is corrupt; use another epoch-NNN folder or retrain/resume.`,
    'CHECKPOINT_CORRUPT',
    { cause },
  );
}
