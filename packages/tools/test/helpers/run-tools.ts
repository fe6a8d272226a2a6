import path from 'node:path';
import { spawnCaptured, tsxArgs } from '@food/core/spawn-captured';

export const repoRoot = path.resolve(import.meta.dirname, '../../../..');

export interface ToolsRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `food-tools` CLI from the repository root, as `pnpm demo ARGS` runs `demo ARGS`. */
export async function runTools(...args: string[]): Promise<ToolsRun> {
  const run = await spawnCaptured(process.execPath, tsxArgs('packages/tools/src/cli.ts', args), {
    cwd: repoRoot,
  });
  if (run.error) throw run.error;
  return { status: run.code, stdout: run.stdout, stderr: run.stderr };
}
