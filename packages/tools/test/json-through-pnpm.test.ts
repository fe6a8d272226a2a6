import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/run-tools.ts';

/** The pnpm a user runs: the one running this test (`pnpm test`), else the root's packageManager via npx. */
async function pnpmCommand(): Promise<string[]> {
  const execPath = process.env.npm_execpath;
  if (execPath && /pnpm/.test(execPath)) return [process.execPath, execPath];
  const manifest = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8'));
  return ['npx', '--yes', manifest.packageManager as string];
}

function run(command: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0] as string, command.slice(1), { cwd: repoRoot });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

/** A `pnpm …` command that prints JSON, written without `-s` (pnpm then prints its header on stdout). */
const JSON_WITHOUT_SILENT = /pnpm (?!-s )(run doctor|runs|predict)[^`#\n]*--json/;

describe('--json through pnpm', () => {
  it('`pnpm -s runs --json`, as documented, prints JSON that parses', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'runs-json-'));
    roots.push(dir);
    const { status, stdout, stderr } = await run([
      ...(await pnpmCommand()),
      '-s',
      'runs',
      '--dir',
      dir,
      '--json',
    ]);
    expect(status, stderr).toBe(0);
    expect(JSON.parse(stdout)).toEqual([]);
  }, 120_000);

  it('every documented --json command of doctor, runs and predict is run with `pnpm -s`', async () => {
    const docs = (await readdir(path.join(repoRoot, 'docs'))).filter((name) => name.endsWith('.md'));
    const files = [
      'README.md',
      'docker/README.md',
      ...docs.map((name) => path.join('docs', name)),
      'packages/trainer/src/commands/runs.ts',
      'packages/trainer/src/doctor/cli.ts',
      'packages/server/src/commands/predict.ts',
    ];
    for (const file of files) {
      const lines = (await readFile(path.join(repoRoot, file), 'utf8')).split('\n');
      for (const [index, line] of lines.entries()) {
        expect(line, `${file}:${index + 1}`).not.toMatch(JSON_WITHOUT_SILENT);
      }
    }
  });
});
