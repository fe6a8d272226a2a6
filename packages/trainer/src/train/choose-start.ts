import { UserError } from '@food/core/errors';
import { findResumePoint, listRunCheckpoints, type ResumePoint, removeRun } from './resume-point.ts';
import type { TrainConfig } from './run-config.ts';

/**
 * Whether `pnpm train` starts a new run in `--out` or continues the one there; undefined means start.
 *   (no flag)      start; refused when --out holds checkpoints, unless --overwrite (which deletes them);
 *   --resume       continue from the newest verified checkpoint; refused when there is none;
 *   --resume auto  continue when there is one, else start: the same command works for the first start
 *                  and after every preemption (a Kubernetes Job's restarts).
 */
export async function chooseStart(
  config: Pick<TrainConfig, 'out' | 'resume' | 'overwrite'>,
  log: (line: string) => void,
): Promise<ResumePoint | undefined> {
  const existing = await listRunCheckpoints(config.out);
  if (config.resume && config.overwrite) {
    throw new UserError('--resume and --overwrite contradict each other: use one.');
  }
  if (!config.resume) {
    if (existing.length === 0) return undefined;
    if (config.overwrite) {
      await removeRun(config.out);
      log(`--overwrite: deleted ${existing.join(', ')} and the history of ${config.out}; starting over`);
      return undefined;
    }
    throw new UserError(
      `${config.out} already holds a run (${existing.join(', ')}). Continue it with --resume, start over with --overwrite (deletes those checkpoints), or choose another --out.`,
    );
  }
  const point = await findResumePoint(config.out, log);
  if (point) return point;
  if (existing.length > 0) {
    throw new UserError(
      `cannot resume ${config.out}: none of its checkpoints (${existing.join(', ')}) is intact (see above). Start over with --overwrite, or choose another --out.`,
    );
  }
  if (config.resume === 'auto') {
    log(`--resume auto: ${config.out} holds no checkpoint; starting the run`);
    return undefined;
  }
  throw new UserError(
    `nothing to resume: ${config.out} holds no checkpoint. Start the run without --resume (or with --resume auto, which starts or continues).`,
  );
}
