import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EpochRecord } from '@food/core/checkpoint/epoch-metrics';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPreparedSynth, type PreparedSynth } from '../fixtures/prepared-synth.ts';
import { startCli } from '../helpers/cli-process.ts';
import { tensorflowSkipReason, titleFor } from '../helpers/tensorflow-backend.ts';
import { readTensorboardEvents, trackingSkipReason } from '../helpers/tracking-venv.ts';
import { tinyTrainArgs } from './tiny-run.ts';

// `pnpm train --tensorboard DIR` and `pnpm evaluate --tensorboard DIR`, read back with the tensorboard
// PyPI package's event_accumulator (what `tensorboard --logdir` runs).
let synth: PreparedSynth;

async function trainAndRead(name: string, backend: string) {
  const root = path.join(synth.root, `tb-${name}`);
  const out = path.join(synth.root, name);
  const args = tinyTrainArgs(synth, out, 2, '--tensorboard', root);
  args[args.indexOf('--backend') + 1] = backend;
  const trained = await startCli(args).exit;
  expect(trained.code, trained.stderr).toBe(0);
  const history = JSON.parse(await readFile(path.join(out, 'history.json'), 'utf8')) as EpochRecord[];
  return {
    root,
    out,
    stderr: trained.stderr,
    history,
    events: await readTensorboardEvents(path.join(root, name)),
  };
}

function expectTrainingScalars(run: Awaited<ReturnType<typeof trainAndRead>>) {
  const { scalars } = run.events;
  expect(scalars['step/loss'].map(([step]) => step)).toEqual([1, 2, 3, 4]);
  expect(scalars['step/learning_rate'].map(([, value]) => value)).toEqual(
    [0.003, 0.003, 0.003, 0.003].map((lr) => expect.closeTo(lr, 6)),
  );
  expect(scalars['epoch/val_top1']).toEqual(
    run.history.map((record) => [record.epoch, expect.closeTo(record.valTop1, 6)]),
  );
  expect(scalars['epoch/train_loss']).toEqual(
    run.history.map((record) => [record.epoch, expect.closeTo(record.trainLoss, 5)]),
  );
}

describe.skipIf(trackingSkipReason)(titleFor('TensorBoard event files', trackingSkipReason), () => {
  beforeAll(async () => {
    synth = await createPreparedSynth({ seed: 13 });
  });

  it('wasm: scalars per step and per epoch, and the confusion matrix image after evaluate', async () => {
    const run = await trainAndRead('wasm-run', 'wasm');
    expect(run.stderr).toContain('(event-file-writer)');
    expectTrainingScalars(run);

    const evaluated = await startCli([
      'evaluate',
      ...['--checkpoint', path.join(run.out, 'best'), '--prepared', synth.prepared, '--split', 'test'],
      ...[
        '--out',
        path.join(synth.root, 'wasm-report'),
        '--limit',
        '16',
        '--engine',
        'tfjs',
        '--backend',
        'wasm',
      ],
      ...['--no-progress', '--tensorboard', run.root],
    ]).exit;
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const metrics = JSON.parse(
      await readFile(path.join(synth.root, 'wasm-report', 'metrics.json'), 'utf8'),
    ) as {
      accuracy: number;
    };
    const events = await readTensorboardEvents(path.join(run.root, 'wasm-run'));
    // Four classes: 100-pixel squares.
    expect(events.images['test/confusion_matrix']).toEqual([[0, 400, 400]]);
    expect(events.scalars['test/top1']).toEqual([[0, expect.closeTo(metrics.accuracy, 6)]]);
    // The training scalars are still there beside the evaluation's file.
    expect(events.scalars['step/loss']).toHaveLength(4);
  });

  it.skipIf(tensorflowSkipReason())(
    titleFor("tensorflow: the scalars go through tfjs-node's summary writer", tensorflowSkipReason()),
    async () => {
      const run = await trainAndRead('tf-run', 'tensorflow');
      expect(run.stderr).toContain('(tfjs-node)');
      expectTrainingScalars(run);
    },
  );
});
