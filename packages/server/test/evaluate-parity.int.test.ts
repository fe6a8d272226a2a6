import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTsCli } from '@food/core/spawn-captured';
import { TINY_PREPROCESS } from '@food/core/testing/tiny-checkpoint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { injectMultipartImage } from './helpers/inject-image.ts';

// Training/serving skew guard, end to end through the user-facing commands: the probabilities that
// `pnpm evaluate` records for a file equal what `/api/predict` answers for the same file (same backend).
// The trainer is run as a process: the server package never imports it.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
let root: string;

async function trainer(...args: string[]): Promise<void> {
  const run = await runTsCli('packages/trainer/src/cli.ts', args, { cwd: repoRoot });
  expect(run.code, run.stderr).toBe(0);
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'food-parity-'));
  const [data, prepared, run, report] = ['food', 'prepared', 'run', 'report'].map((name) =>
    path.join(root, name),
  );
  await trainer('synth', '--out', data, '--classes', '3', '--images-per-class', '12', '--seed', '5');
  await trainer('prepare', '--data', data, '--out', prepared, '--classes', '3', '--no-progress');
  const geometry = { ...TINY_PREPROCESS, resizeShorterSide: 37, mean: [0.5, 0.5, 0.5] };
  await writeFile(path.join(prepared, 'preprocess.json'), JSON.stringify(geometry));
  await trainer('stats', '--prepared', prepared, '--no-progress');
  await trainer(
    ...['train', '--prepared', prepared, '--out', run, '--weights', 'none', '--width', '0.0625'],
    ...[
      '--blocks',
      '1,1,1,1',
      '--image-size',
      '32',
      '--epochs',
      '1',
      '--batch-size',
      '8',
      '--backend',
      'cpu',
      '--no-progress',
    ],
  );
  await trainer(
    ...['evaluate', '--checkpoint', path.join(run, 'best'), '--prepared', prepared, '--out', report],
    ...['--backend', 'cpu', '--save-probabilities', '--no-progress'],
  );
}, 300_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('evaluate and /api/predict agree', () => {
  it('gives the probabilities of predictions in probabilities.json to 1e-6 for every test image', async () => {
    const saved = JSON.parse(await readFile(path.join(root, 'report', 'probabilities.json'), 'utf8')) as {
      classes?: string[];
      images: string[];
      probabilities: number[][];
    };
    const classes = JSON.parse(await readFile(path.join(root, 'run', 'best', 'labels.json'), 'utf8'))
      .classes as string[];
    const app = await buildApp({ checkpoint: path.join(root, 'run', 'best'), workers: 0, backend: 'cpu' });
    await app.classifier.ready;
    expect(saved.images.length).toBeGreaterThan(0);
    for (const [index, image] of saved.images.entries()) {
      const bytes = await readFile(path.join(root, 'food', image));
      const response = await injectMultipartImage(app, bytes, {
        filename: path.basename(image),
        query: `?topK=${classes.length}`,
      });
      expect(response.statusCode).toBe(200);
      for (const { label, probability } of response.json().predictions) {
        expect(
          Math.abs(probability - saved.probabilities[index][classes.indexOf(label)]),
        ).toBeLessThanOrEqual(1e-6);
      }
    }
    await app.close();
  });
});
