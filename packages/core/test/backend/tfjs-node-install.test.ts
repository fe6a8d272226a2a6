import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// `pnpm install` on a machine that cannot reach libtensorflow's host: the install scripts of the optional
// tfjs-node packages (patched, see pnpm-workspace.yaml) exit 0 and print nothing (no "install: Failed",
// no stack trace); the root postinstall's one line (trainer/src/tools/install-note.ts) says what to run.
// Each script runs on a copy of the package, so the installed one (and its binding) is never touched.
const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

describe.each(['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'])('%s install script', (name) => {
  it('exits 0 and prints nothing when the host is unreachable', async () => {
    const packageDir = path.dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
    const copy = await mkdtemp(path.join(tmpdir(), 'tfjs-node-install-'));
    roots.push(copy);
    await cp(path.join(packageDir, 'scripts'), path.join(copy, 'scripts'), { recursive: true });
    await cp(path.join(packageDir, 'package.json'), path.join(copy, 'package.json'));
    const args = name.endsWith('-gpu') ? ['gpu', 'download'] : [];
    const run = spawnSync(process.execPath, ['scripts/install.js', ...args], {
      cwd: copy,
      encoding: 'utf8',
      timeout: 60_000,
      // A closed local port stands in for the unreachable host; NODE_PATH finds the script's own dependencies.
      env: {
        ...process.env,
        TFJS_NODE_CDN_STORAGE: 'https://127.0.0.1:9/',
        NODE_PATH: path.dirname(path.dirname(packageDir)),
      },
    });
    const output = `${run.stdout}${run.stderr}`;
    expect(run.status, output).toBe(0);
    expect(output).toBe('');
  });
});
