import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPreparedSynth, type PreparedSynth } from '../fixtures/prepared-synth.ts';
import { repoRoot, runTrainer } from '../helpers/run-trainer.ts';

// Every trainer command, given what users get wrong: a clear message, a non-zero exit, and never a
// bare stack trace. Each case is a real `node --import tsx cli.ts …` process (~3-6 s here), so the
// cases run a few at a time.
const TINY = ['--weights', 'none', '--width', '0.0625', '--blocks', '1,1,1,1', '--image-size', '32'];
const TRAIN_FAST = [...TINY, '--batch-size', '8', '--backend', 'wasm', '--epochs', '1', '--no-progress'];

interface CliCase {
  name: string;
  args: () => string[];
  /** Text the error message must contain (case-insensitive). */
  message: RegExp;
}

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function runCli(args: string[]): Promise<CliResult> {
  const { status, stdout, stderr } = await runTrainer(...args);
  return { code: status, stdout, stderr };
}

let synth: PreparedSynth;
let emptyPrepared: string;
let otherClasses: string;
let emptyClassData: string;

beforeAll(async () => {
  synth = await createPreparedSynth({ classes: 3, imagesPerClass: 8 });
  // A prepared set whose training split is empty.
  emptyPrepared = path.join(synth.root, 'prepared-empty');
  await cp(synth.prepared, emptyPrepared, { recursive: true });
  const manifestFile = path.join(emptyPrepared, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
  await writeFile(
    manifestFile,
    JSON.stringify({
      ...manifest,
      splits: { ...manifest.splits, train: [] },
      counts: { ...manifest.counts, train: 0 },
    }),
  );
  // The same images under other class names: a checkpoint trained on `synth` does not fit it.
  otherClasses = path.join(synth.root, 'prepared-other');
  await cp(synth.prepared, otherClasses, { recursive: true });
  const otherFile = path.join(otherClasses, 'manifest.json');
  await writeFile(
    otherFile,
    JSON.stringify({ ...manifest, classes: manifest.classes.map((name: string) => `other_${name}`) }),
  );
  // A Food-101 layout where one class folder holds no image.
  emptyClassData = path.join(synth.root, 'food-empty-class');
  await cp(synth.dataRoot, emptyClassData, { recursive: true });
  const firstClass = manifest.classes[0] as string;
  await rm(path.join(emptyClassData, 'images', firstClass), { recursive: true });
  await mkdir(path.join(emptyClassData, 'images', firstClass));
}, 120_000);

afterAll(async () => {
  if (synth) await rm(synth.root, { recursive: true, force: true });
});

const runDir = () => path.join(synth.root, 'run');

const cases: CliCase[] = [
  { name: 'unknown command', args: () => ['trian'], message: /unknown command 'trian'/i },
  {
    name: 'train: prepared folder does not exist',
    args: () => [
      'train',
      '--prepared',
      '/no/such/prepared',
      '--out',
      path.join(synth.root, 'r1'),
      ...TRAIN_FAST,
    ],
    message: /\/no\/such\/prepared/,
  },
  {
    name: 'train: unknown flag',
    args: () => ['train', '--prepared', synth.prepared, '--out', runDir(), '--learning-rate', '1'],
    message: /unknown option '--learning-rate'/i,
  },
  {
    name: 'train: bad flag values',
    args: () => ['train', '--prepared', synth.prepared, '--out', runDir(), '--lr', 'fast'],
    message: /--lr.*expected a positive number/i,
  },
  {
    name: 'train: empty training split',
    args: () => ['train', '--prepared', emptyPrepared, '--out', path.join(synth.root, 'r2'), ...TRAIN_FAST],
    message: /no training images/i,
  },
  {
    name: 'train --resume with nothing to resume',
    args: () => [
      'train',
      '--prepared',
      synth.prepared,
      '--out',
      path.join(synth.root, 'r3'),
      ...TRAIN_FAST,
      '--resume',
    ],
    message: /nothing to resume.*without --resume/i,
  },
  {
    name: 'prepare: a class with zero images',
    args: () => [
      'prepare',
      '--data',
      emptyClassData,
      '--out',
      path.join(synth.root, 'p1'),
      '--classes',
      '3',
      '--no-progress',
    ],
    message: /image|class/i,
  },
  {
    name: 'evaluate: checkpoint from another model (ImageNet weights folder, no labels)',
    args: () => [
      'evaluate',
      '--checkpoint',
      path.resolve(repoRoot, '../shared/weights/resnet50-imagenet'),
      '--prepared',
      synth.prepared,
      '--backend',
      'cpu',
    ],
    message: /checkpoint/i,
  },
  {
    name: 'import-weights: source does not exist',
    args: () => ['import-weights', '--from', '/no/such/weights.h5', '--out', path.join(synth.root, 'w')],
    message: /weights|no such|not found|unknown option/i,
  },
  {
    name: 'synth: bad flag value',
    args: () => ['synth', '--out', path.join(synth.root, 's'), '--classes', '-3'],
    message: /--classes/i,
  },
];

function expectCleanFailure(testCase: CliCase, result: CliResult): void {
  const context = `${testCase.name}\n--- stderr ---\n${result.stderr}`;
  expect(result.code, context).not.toBe(0);
  expect(result.code, context).not.toBeNull();
  expect(result.stderr, context).toMatch(testCase.message);
  expect(result.stderr, context).toMatch(/error/i);
  // A stack trace line ("    at fn (file:line)") means an error escaped without a message for users.
  expect(result.stderr, context).not.toMatch(/^\s{4}at /m);
}

describe('trainer CLI errors', () => {
  it('every command fails clearly (message, non-zero exit, no stack trace)', async () => {
    const results = await mapLimit(cases, 3, (testCase) => runCli(testCase.args()));
    for (const [index, testCase] of cases.entries()) expectCleanFailure(testCase, results[index]);
  }, 240_000);

  it('refuses to resume a run on a prepared set with other classes, and evaluate refuses it too', async () => {
    const train = await runCli([
      'train',
      '--prepared',
      synth.prepared,
      '--out',
      runDir(),
      ...TRAIN_FAST,
      '--lr',
      '1e-3',
    ]);
    expect(train.code, train.stderr).toBe(0);
    const [resume, evaluate] = await Promise.all([
      runCli([
        'train',
        '--prepared',
        otherClasses,
        '--out',
        runDir(),
        ...TRAIN_FAST,
        '--lr',
        '1e-3',
        '--epochs',
        '2',
        '--resume',
      ]),
      runCli([
        'evaluate',
        '--checkpoint',
        path.join(runDir(), 'best'),
        '--prepared',
        otherClasses,
        '--backend',
        'cpu',
        '--out',
        path.join(synth.root, 'report'),
      ]),
    ]);
    expectCleanFailure(
      { name: 'resume, other classes', args: () => [], message: /cannot resume.*classes/i },
      resume,
    );
    expectCleanFailure({ name: 'evaluate, other classes', args: () => [], message: /class/i }, evaluate);
  }, 240_000);
});

async function mapLimit<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const runners = Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  });
  await Promise.all(runners);
  return results;
}
