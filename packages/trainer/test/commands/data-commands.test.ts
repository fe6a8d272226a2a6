import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CommanderError } from 'commander';
import * as tar from 'tar';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { register as registerDownload } from '../../src/commands/download.ts';
import { register as registerPrepare } from '../../src/commands/prepare.ts';
import { register as registerStats } from '../../src/commands/stats.ts';
import { register as registerSynth } from '../../src/commands/synth.ts';
import { tempDir } from '../data/temp-dir.ts';
import { runCommandsInProcess, runTrainer } from '../helpers/run-trainer.ts';

/** The data commands on a program built like cli.ts builds it, run in-process (fast), output captured. */
function trainer(...args: string[]) {
  return runCommandsInProcess([registerSynth, registerPrepare, registerStats, registerDownload], args);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('data commands', () => {
  it.each(['synth', 'prepare', 'stats', 'download'])('%s --help shows examples', async (command) => {
    const { stdout, error } = await trainer(command, '--help');
    expect((error as CommanderError).code).toBe('commander.helpDisplayed');
    expect(stdout).toMatch(new RegExp(`Examples:\\n\\s+\\$ pnpm trainer ${command} `));
  });

  it.each([
    [
      ['prepare', '--data', 'x', '--out', 'y', '--classes', '3', '--val-fraction', '1.5'],
      /--val-fraction.*between 0 and 1/,
    ],
    [['prepare', '--data', 'x', '--out', 'y', '--classes', '2.5'], /--classes.*expected an integer/],
    [['prepare', '--data', 'x', '--out', 'y', '--preset', 'seed99'], /--preset.*choices.*seed50/s],
    [
      ['prepare', '--data', 'x', '--out', 'y', '--classes', '3', '--preset', 'seed50'],
      /exactly one of --preset/,
    ],
    [['synth', '--out', 'x', '--classes', '0'], /--classes.*positive integer/],
    [['stats', '--prepared', 'x', '--limit', 'ten'], /--limit.*expected an integer/],
    [['download', '--out', 'x', '--sha256', 'abc'], /64 hexadecimal digits/],
    [['download', '--out', 'x', '--url', 'ftp://host/a.tgz'], /http\(s\) URL/],
  ])('rejects %j', async (args, message) => {
    const { stderr, error } = await trainer(...(args as string[]));
    expect(error).toBeDefined();
    expect(`${stderr} ${(error as Error).message}`).toMatch(message);
    if (error instanceof CommanderError) expect(error.exitCode).not.toBe(0);
  });

  it('runs synth → prepare → stats end to end', async () => {
    const root = await tempDir('cli');
    const data = path.join(root, 'data');
    const prepared = path.join(root, 'prepared');
    expect(
      (await trainer('synth', '--out', data, '--classes', '2', '--images-per-class', '8')).error,
    ).toBeUndefined();
    const prepare = await trainer(
      'prepare',
      '--data',
      data,
      '--out',
      prepared,
      '--class-list',
      'baby_back_ribs,apple_pie',
    );
    expect(prepare.error).toBeUndefined();
    expect(prepare.stdout).toMatch(/2 classes, train 10, val 2, test 4/);
    const stats = await trainer('stats', '--prepared', prepared, '--no-progress');
    expect(stats.stdout).toMatch(/mean \[0\.\d{4}, 0\.\d{4}, 0\.\d{4}\]/);
    const config = JSON.parse(await readFile(path.join(prepared, 'preprocess.json'), 'utf8'));
    expect(config.statsSource).toMatch(/over 10 training images/);
  });

  it('download --archive extracts an existing archive and names the data root', async () => {
    const root = await tempDir('cli-archive');
    await trainer(
      'synth',
      '--out',
      path.join(root, 'src', 'food-101'),
      '--classes',
      '1',
      '--images-per-class',
      '4',
    );
    const archive = path.join(root, 'food-101.tar.gz');
    await tar.c({ gzip: true, file: archive, cwd: path.join(root, 'src') }, ['food-101']);
    const { stdout, error } = await trainer(
      'download',
      '--out',
      path.join(root, 'out'),
      '--archive',
      archive,
    );
    expect(error).toBeUndefined();
    expect(stdout).toContain(`data set ready in ${path.join(root, 'out', 'food-101')}`);
    expect(await readFile(path.join(root, 'out/food-101/meta/classes.txt'), 'utf8')).toBe('apple_pie\n');
    const missing = await trainer(
      'download',
      '--out',
      path.join(root, 'out'),
      '--archive',
      path.join(root, 'nope.tgz'),
    );
    expect((missing.error as Error).message).toMatch(/archive .*nope.tgz does not exist/);
  });
});

describe('food-trainer process', () => {
  it('exits non-zero with the message on a bad flag value', async () => {
    const { status, stderr } = await runTrainer(
      'prepare',
      '--data',
      'x',
      '--out',
      'y',
      '--val-fraction',
      '0',
    );
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/option '--val-fraction <f>' argument '0' is invalid.*between 0 and 1/);
  });

  it('explains a missing data set folder without a stack trace', async () => {
    const { status, stderr } = await runTrainer(
      'prepare',
      '--data',
      'no/such/dir',
      '--out',
      'unused',
      '--classes',
      '2',
    );
    expect(status).toBe(1);
    expect(stderr).toMatch(/^error: data set folder .*no\/such\/dir does not exist/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
