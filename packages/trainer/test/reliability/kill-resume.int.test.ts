import { access, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { loadCheckpoint } from '@food/core/checkpoint/load-checkpoint';
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPreparedSynth, type PreparedSynth } from '../fixtures/prepared-synth.ts';
import { maxAbsDiff, weightsOf } from '../helpers/checkpoint-weights.ts';
import { startCli, waitForLog } from '../helpers/cli-process.ts';

// `kill -9` a real training process at three points (mid epoch 1 before any checkpoint, inside the
// epoch-1 checkpoint save, mid epoch 3), then run the identical command again, as a Kubernetes Job's
// restart does: `--resume auto` starts the run when nothing was saved and continues it otherwise.
// Every time the final weights equal an uninterrupted run's, no torn checkpoint is ever loaded, and the
// same command once more exits 0 saying the run is complete.

let synth: PreparedSynth;

function trainArgs(out: string): string[] {
  return [
    'train',
    '--prepared',
    synth.prepared,
    '--out',
    out,
    '--weights',
    'none',
    '--width',
    '0.0625',
    '--blocks',
    '1,1,1,1',
    '--image-size',
    '32',
    '--batch-size',
    '8',
    '--backend',
    'wasm',
    '--lr',
    '3e-3',
    '--epochs',
    '3',
    '--no-progress',
    '--resume',
    'auto',
  ];
}

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

/** Every checkpoint folder the killed run left must load (checksums, topology) or be absent: never torn. */
async function expectNoTornCheckpoint(out: string): Promise<string[]> {
  const names = await readdir(out).catch(() => [] as string[]);
  const folders = names.filter((name) => /^(epoch-\d{3}|latest|best)$/.test(name));
  for (const name of folders) {
    await expect(
      loadCheckpoint(path.join(out, name), { withTrainingState: true }),
      name,
    ).resolves.toBeDefined();
  }
  return names;
}

beforeAll(async () => {
  await initBackend('cpu', () => {});
  synth = await createPreparedSynth({ classes: 4, imagesPerClass: 24 });
}, 120_000);

afterAll(async () => {
  if (synth) await rm(synth.root, { recursive: true, force: true });
});

describe('kill -9 during training, then resume', () => {
  let reference: Float32Array[];

  beforeAll(async () => {
    const out = path.join(synth.root, 'uninterrupted');
    const run = await startCli(trainArgs(out)).exit;
    expect(run.code, run.stderr).toBe(0);
    reference = await weightsOf(path.join(out, 'latest'));
  }, 180_000);

  // Where to kill: after a log line, plus a seeded random delay (printed, so a failure can be replayed).
  // Mid-epoch kills wait for the epoch's first progress line (a quarter in: six steps, validation and the
  // save still to come): an epoch of this tiny run takes ~0.4 s, so a fixed delay after an earlier line
  // could land after the epoch's save.
  const random = seedrandom('kill-9');
  const points = [
    { name: 'mid epoch 1, before any checkpoint', after: /^epoch 1\/3 [1-9]\d*\/\d+ /m, extraMs: [0, 40] },
    { name: 'while epoch 1 is being saved', after: /^epoch 1: /m, extraMs: [0, 150] },
    { name: 'mid epoch 3', after: /^epoch 3\/3 [1-9]\d*\/\d+ /m, extraMs: [0, 40] },
  ] as const;

  for (const [index, point] of points.entries()) {
    it(`kill -9 ${point.name}: the run continues to the uninterrupted weights`, async () => {
      const delay = Math.round(point.extraMs[0] + random() * (point.extraMs[1] - point.extraMs[0]));
      const out = path.join(synth.root, `killed-${index}`);
      const run = startCli(trainArgs(out));
      await waitForLog(run, point.after, 120_000);
      await new Promise((resolve) => setTimeout(resolve, delay));
      run.child.kill('SIGKILL');
      const killed = await run.exit;
      process.stdout.write(`kill ${index} (${point.name}): +${delay} ms after ${point.after}\n`);
      if (killed.code === 0) throw new Error(`the run finished before the kill (+${delay} ms)`);

      const left = await expectNoTornCheckpoint(out);
      const hasLatest = left.includes('latest');
      if (index === 0) expect(hasLatest).toBe(false);
      if (index === 2) expect(hasLatest).toBe(true);
      process.stdout.write(`  left behind: ${left.join(', ') || '(nothing)'}\n`);

      const resumed = await startCli(trainArgs(out)).exit;
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toMatch(/^resuming .* from |holds no checkpoint; starting the run/m);
      if (hasLatest) expect(resumed.stderr).toMatch(/^resuming /m);
      expect(resumed.stdout).toContain('done: 3 epochs');

      expect(maxAbsDiff(reference, await weightsOf(path.join(out, 'latest')))).toBeLessThanOrEqual(1e-6);
      // A save killed midway leaves a `.NAME.tmp-…` sibling; recovery removes it the next time NAME
      // is written (latest/best always are; an epoch-NNN folder not rewritten keeps it: disk only).
      const leftovers = (await readdir(out)).filter((name) => name.startsWith('.'));
      process.stdout.write(`  temporary siblings after the resumed run: ${leftovers.join(', ') || 'none'}\n`);
      expect(leftovers.filter((name) => /^\.(latest|best)\./.test(name))).toEqual([]);
      expect(await exists(path.join(out, 'best'))).toBe(true);

      const again = await startCli(trainArgs(out)).exit;
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/^already complete: .* all 3 epochs/);
    }, 180_000);
  }

  it('SIGTERM (a preempted pod) saves latest after the current step, exits 143, and the same command finishes', async () => {
    const out = path.join(synth.root, 'sigterm');
    const run = startCli(trainArgs(out));
    await waitForLog(run, /^epoch 1: /m, 120_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    run.child.kill('SIGTERM');
    const stopped = await run.exit;
    // Not 0: a Kubernetes Job whose pod exits 0 counts as complete and is never restarted.
    expect(stopped.code, stopped.stderr).toBe(143);
    expect(stopped.stdout).toMatch(/^stopped after step \d+; saved .*latest\. Continue with:/);

    const resumed = await startCli(trainArgs(out)).exit;
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/^resuming .* from latest: /m);
    expect(resumed.stdout).toContain('done: 3 epochs');
    expect(maxAbsDiff(reference, await weightsOf(path.join(out, 'latest')))).toBeLessThanOrEqual(1e-6);
  }, 180_000);
});
