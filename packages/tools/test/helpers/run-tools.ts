import path from 'node:path';
import { type CapturedRun, runTsCli } from '@food/core/spawn-captured';

export const repoRoot = path.resolve(import.meta.dirname, '../../../..');

/** Runs the real `food-tools` CLI from the repository root, as `pnpm demo ARGS` runs `demo ARGS`. */
export function runTools(...args: string[]): Promise<CapturedRun> {
  return runTsCli('packages/tools/src/cli.ts', args, { cwd: repoRoot });
}
