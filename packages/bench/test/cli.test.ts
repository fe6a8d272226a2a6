import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseBatches, parseRuns, parseSections, reportPath } from '../src/cli.ts';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const run = promisify(execFile);
const bench = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', CLI, ...args], { timeout: 120_000 });

describe('bench flags', () => {
  it('accepts whole run counts and known sections only', () => {
    expect(parseRuns('5')).toBe(5);
    expect(() => parseRuns('0')).toThrow(/whole number of runs/);
    expect(() => parseRuns('2.5')).toThrow(/whole number of runs/);
    expect(parseSections('forward, train')).toEqual(['forward', 'train']);
    expect(() => parseSections('forward,gpu')).toThrow(/Unknown section "gpu"/);
    expect(parseBatches('8, 32')).toEqual([8, 32]);
    expect(() => parseBatches('8,x')).toThrow(/whole batch sizes/);
    expect(() => parseBatches('0')).toThrow(/whole batch sizes/);
  });

  it('exits non-zero with the reason on a bad flag', async () => {
    await expect(bench(['--runs', 'x'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('whole number of runs'),
    });
  });
});

describe('where pnpm bench writes', () => {
  const repoRoot = path.resolve(import.meta.dirname, '../../..');

  it('leaves the committed docs/benchmarks.md alone unless --write-docs asks for it', () => {
    expect(reportPath({ writeDocs: false })).toBe(path.join(repoRoot, 'reports/benchmarks.md'));
    expect(reportPath({ writeDocs: true })).toBe(path.join(repoRoot, 'docs/benchmarks.md'));
    expect(reportPath({ out: 'x/bench.md', writeDocs: false })).toBe(path.resolve('x/bench.md'));
  });

  it('refuses --out with --write-docs rather than pick one', () => {
    expect(() => reportPath({ out: 'x.md', writeDocs: true })).toThrow(/pass one of them/);
  });
});

describe('pnpm bench --quick (smoke)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('measures a tiny model in child processes and writes the report', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-'));
    dirs.push(dir);
    const out = path.join(dir, 'benchmarks.md');
    // An empty data root: preprocessing must say why it is missing rather than fail.
    const { stderr } = await bench([
      '--quick',
      '--runs',
      '2',
      '--only',
      'forward,train,preprocess',
      '--out',
      out,
      '--data-root',
      dir,
    ]);
    expect(stderr).toMatch(/\[1\/\d+\] wasm forward, batch 1/);
    const doc = await readFile(out, 'utf8');
    expect(doc).toContain('`--quick` run');
    expect(doc).toMatch(/\| 1 \| [\d.,]+ \([\d.,]+–[\d.,]+\) \|/);
    expect(doc).toContain('## Training step, wasm, ms per image');
    expect(doc).toContain(`No JPEGs under ${dir}/images/*/`);
    expect(doc).not.toContain('**failed**');
  }, 120_000);
});
