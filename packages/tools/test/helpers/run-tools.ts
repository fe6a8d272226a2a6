import { runCliEntry, type TrainerRun } from '@food/trainer/test/helpers/run-trainer';

export { repoRoot } from '@food/trainer/test/helpers/run-trainer';

/** Runs the real `food-tools` CLI from the repository root, as `pnpm demo ARGS` runs `demo ARGS`. */
export function runTools(...args: string[]): Promise<TrainerRun> {
  return runCliEntry('packages/tools/src/cli.ts', ...args);
}
