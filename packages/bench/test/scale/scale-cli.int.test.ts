/**
 * `pnpm bench:scale` end to end at a tiny size (4 classes × 12 photos, the --quick network): every step
 * runs as a child under GNU time and docs/scale.md's tables come out, with a row per step and projections.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../src/scale/scale-cli.ts', import.meta.url));
const run = promisify(execFile);
const scale = (args: string[]) =>
  run('nice', ['-n', '10', process.execPath, '--import', 'tsx', CLI, ...args], { timeout: 400_000 });

const root = await mkdtemp(path.join(tmpdir(), 'bench-scale-int-'));
afterAll(() => rm(root, { recursive: true, force: true }));

describe('pnpm bench:scale at a tiny size', () => {
  it('measures every step, writes the report, and --clean removes the work folder', async () => {
    const work = path.join(root, 'work');
    const out = path.join(root, 'scale.md');
    const tiny = [
      ...['--work-dir', work, '--classes', '4', '--per-class', '12', '--subset-classes', '3'],
      ...['--feature-slice', '8', '--preset-steps', '2', '--full-steps', '2', '--full-batch', '2', '--quick'],
    ];
    await scale([...tiny, '--out', out]);
    const report = await readFile(out, 'utf8');
    for (const step of [
      'generate',
      'prepare-all',
      'stats',
      'loader-epoch',
      'feature-cache',
      'preset-steps',
    ]) {
      expect(report).toMatch(
        new RegExp(
          `^\\| ${step} \\| .* \\| [\\d.]+ (s|min) \\| .* \\| [\\d.]+ (KiB|MiB|GiB) \\| .*\\|$`,
          'm',
        ),
      );
    }
    expect(report).toMatch(
      /^\| evaluate \| evaluate the 3-class test split on ONNX Runtime \| .* \(9 photos\)/m,
    );
    expect(report).toContain('**not full size**');
    expect(report).toMatch(/^The whole run took \*\*[\d.]+ (s|min)\*\*, the set's generation included\.$/m);
    expect(report).toMatch(/^\| evaluation\/report\.html \| [\d.]+ KiB \|$/m);
    // 2 recipes × 2 class counts, each with 3 core counts and the rate it scales from.
    const projections = report.split('## Projected wall times')[1]!;
    expect(projections.match(/^\| (`--preset cpu`|GPU recipe.*?) \| (50|101) \| .* \|$/gm)).toHaveLength(4);
    expect(projections).toContain('(not measured');

    await scale(['--work-dir', work, '--clean']);
    expect(existsSync(work)).toBe(false);
    expect((await readdir(root)).sort()).toEqual(['scale.md']);
  });
});
