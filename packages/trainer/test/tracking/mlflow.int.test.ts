import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EpochRecord } from '@food/core/checkpoint/epoch-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowClient } from '../../src/tracking/mlflow-client.ts';
import { type MlflowRunState, MlflowSender } from '../../src/tracking/mlflow-sender.ts';
import { createPreparedSynth, type PreparedSynth } from '../fixtures/prepared-synth.ts';
import { startCli, waitForLog } from '../helpers/cli-process.ts';
import {
  listArtifacts,
  type MlflowServer,
  metricHistory,
  mlflowGet,
  startMlflowServer,
  trackingSkipReason,
} from '../helpers/tracking-venv.ts';
import { tinyTrainArgs } from './tiny-run.ts';

// One real `mlflow server` (the PyPI package, SQLite store, artifacts served) for the whole file: it
// takes seconds to start. Every check reads it back through MLflow's REST API.
let server: MlflowServer;
let synth: PreparedSynth;

async function runState(out: string): Promise<MlflowRunState> {
  return JSON.parse(await readFile(path.join(out, 'mlflow.json'), 'utf8')) as MlflowRunState;
}

async function history(out: string): Promise<EpochRecord[]> {
  return JSON.parse(await readFile(path.join(out, 'history.json'), 'utf8')) as EpochRecord[];
}

interface RunInfo {
  run: {
    info: { status: string; run_name: string };
    data: { params?: Array<{ key: string; value: string }>; tags?: Array<{ key: string; value: string }> };
  };
}

/** A tiny training run that logs every step to the server and continues itself when run again. */
function resumableMlflowArgs(out: string, epochs: number): string[] {
  return tinyTrainArgs(synth, out, epochs, '--mlflow', server.url, '--mlflow-every', '1', '--resume', 'auto');
}

const title = (name: string) => (trackingSkipReason ? `${name} (skipped: ${trackingSkipReason})` : name);

describe.skipIf(trackingSkipReason)(title('pnpm train --mlflow against a real MLflow server'), () => {
  beforeAll(async () => {
    [server, synth] = await Promise.all([startMlflowServer(), createPreparedSynth({ seed: 11 })]);
  });
  afterAll(async () => {
    await server?.kill();
  });

  it('logs params, tags, metric histories and artifacts, registers the model, and evaluate adds its scores', async () => {
    const out = path.join(synth.root, 'logged');
    const trained = await startCli(
      tinyTrainArgs(
        synth,
        out,
        2,
        '--mlflow',
        server.url,
        '--mlflow-every',
        '1',
        '--mlflow-register',
        'food-tiny',
      ),
    ).exit;
    expect(trained.code, trained.stderr).toBe(0);
    const { runId, experimentId } = await runState(out);
    expect(runId).toMatch(/^[0-9a-f]{32}$/);

    const { run } = await mlflowGet<RunInfo>(server, `runs/get?run_id=${runId}`);
    expect(run.info.status).toBe('FINISHED');
    expect(run.info.run_name).toBe('logged');
    const params = Object.fromEntries((run.data.params ?? []).map(({ key, value }) => [key, value]));
    expect(params).toMatchObject({
      epochs: '2',
      batchSize: '8',
      learningRate: '0.003',
      limit: '16',
      blocksPerStage: '1,1,1,1',
    });
    expect(params).not.toHaveProperty('resume');
    const tags = Object.fromEntries((run.data.tags ?? []).map(({ key, value }) => [key, value]));
    expect(tags).toMatchObject({ backend: 'wasm', device: 'CPU', 'mlflow.source.name': 'pnpm train' });
    expect(tags['mlflow.source.git.commit']).toMatch(/^[0-9a-f]{40}$/);
    const experiment = await mlflowGet<{ experiment: { name: string } }>(
      server,
      `experiments/get?experiment_id=${experimentId}`,
    );
    expect(experiment.experiment.name).toBe('prepared'); // the prepared folder's name

    const records = await history(out);
    expect(await metricHistory(server, runId as string, 'epoch/val_top1')).toEqual(
      records.map((record) => ({ step: record.epoch, value: record.valTop1 })),
    );
    expect(
      (await metricHistory(server, runId as string, 'epoch/train_loss')).map((metric) => metric.value),
    ).toEqual(records.map((record) => expect.closeTo(record.trainLoss, 6)));
    expect((await metricHistory(server, runId as string, 'step/loss')).map((metric) => metric.step)).toEqual([
      1, 2, 3, 4,
    ]);

    const artifacts = await listArtifacts(server, runId as string);
    const local = async (file: string) => (await readFile(path.join(out, file))).length;
    expect(artifacts['history.json']).toBe(await local('history.json'));
    expect(artifacts['model/best.onnx']).toBe(await local('best.onnx'));
    expect(artifacts['model/best/weights.bin']).toBe(await local('best/weights.bin'));
    expect(Object.keys(artifacts)).toEqual(
      expect.arrayContaining(['curves.svg', 'history.csv', 'model/MODEL_CARD.md', 'model/best/labels.json']),
    );

    const versions = await mlflowGet<{
      model_versions: Array<{ version: string; run_id: string; source: string }>;
    }>(server, `model-versions/search?filter=${encodeURIComponent("name='food-tiny'")}`);
    expect(versions.model_versions).toEqual([
      expect.objectContaining({
        version: '1',
        run_id: runId,
        source: expect.stringMatching(/\/artifacts\/model$/),
      }),
    ]);

    const report = path.join(synth.root, 'logged-report');
    const evaluated = await startCli([
      'evaluate',
      ...['--checkpoint', path.join(out, 'best'), '--prepared', synth.prepared, '--split', 'test'],
      ...['--out', report, '--limit', '16', '--engine', 'tfjs', '--backend', 'wasm', '--no-progress'],
      ...['--mlflow', server.url],
    ]).exit;
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const metrics = JSON.parse(await readFile(path.join(report, 'metrics.json'), 'utf8')) as {
      accuracy: number;
    };
    expect(await metricHistory(server, runId as string, 'test/top1')).toEqual([
      { step: 0, value: metrics.accuracy },
    ]);
    expect(Object.keys(await listArtifacts(server, runId as string, 'evaluation'))).toEqual(
      expect.arrayContaining([
        'evaluation/test/report.html',
        'evaluation/test/metrics.json',
        'evaluation/test/confusion.csv',
      ]),
    );
  });

  it('continues the same MLflow run after kill -9 and --resume', async () => {
    const out = path.join(synth.root, 'killed');
    const args = resumableMlflowArgs(out, 3);
    const first = startCli(args);
    await waitForLog(first, /epoch 2: train loss/);
    // Killed once the run folder names its MLflow run (the server answers between steps).
    await expect
      .poll(
        () =>
          runState(out).then(
            (state) => state.runId,
            () => undefined,
          ),
        { timeout: 60_000 },
      )
      .toBeDefined();
    first.child.kill('SIGKILL');
    await first.exit;
    const { runId } = await runState(out);

    const second = await startCli(args).exit;
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`mlflow: continuing run ${runId}`);
    expect((await runState(out)).runId).toBe(runId);
    const { run } = await mlflowGet<RunInfo>(server, `runs/get?run_id=${runId}`);
    expect(run.info.status).toBe('FINISHED');
    const epochs = (await metricHistory(server, runId as string, 'epoch/val_top1')).map(
      (metric) => metric.step,
    );
    expect([...new Set(epochs)]).toEqual([1, 2, 3]);
    // Epoch 2's figures come back from history.json even when the kill beat their sending; step figures
    // sent in the last moments before a kill -9 may be missing, those after the resumed checkpoint are not.
    const steps = (await metricHistory(server, runId as string, 'step/loss')).map((metric) => metric.step);
    expect(steps).toEqual(expect.arrayContaining([1, 5, 6]));
  });

  it('keeps training while the server is killed, and sends what it missed once it is back', async () => {
    const out = path.join(synth.root, 'outage');
    const args = resumableMlflowArgs(out, 4);
    const training = startCli(args);
    await waitForLog(training, /epoch 1: train loss/);
    await server.kill();
    await waitForLog(training, /warning: mlflow/);
    await server.start();
    const first = await training.exit;
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr.match(/warning: mlflow: .*training goes on/g)).toHaveLength(1);
    // The run may end before the server is back: then it says what was not sent, and the next
    // --resume (here: the run is already complete) sends it.
    if (/not sent to/.test(first.stderr)) {
      const again = await startCli(args).exit;
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain('already complete');
    } else {
      expect(first.stderr).toContain('answers again');
    }
    const state = await runState(out);
    expect(state.pending).toEqual([]);
    const runId = state.runId as string;
    const { run } = await mlflowGet<RunInfo>(server, `runs/get?run_id=${runId}`);
    expect(run.info.status).toBe('FINISHED');
    expect((await metricHistory(server, runId, 'epoch/val_top1')).map((metric) => metric.step)).toEqual([
      1, 2, 3, 4,
    ]);
    expect((await metricHistory(server, runId, 'step/loss')).map((metric) => metric.step)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
    expect(Object.keys(await listArtifacts(server, runId))).toContain('model/best.onnx');
  });

  it('buffers requests while the server is down, warns once, and sends them in order when it answers', async () => {
    const logs: string[] = [];
    const out = path.join(synth.root, 'buffered.json');
    const sender = new MlflowSender(
      new MlflowClient(server.url),
      { trackingUri: server.url, pending: [] },
      out,
      (line) => logs.push(line),
    );
    const loss = (step: number) => ({
      kind: 'log' as const,
      metrics: [{ key: 'loss', value: 1 / step, timestamp: Date.now(), step }],
      params: [],
      tags: [],
    });
    sender.enqueue({
      kind: 'create-run',
      experimentName: 'buffered',
      runName: 'buffered',
      startTime: Date.now(),
      tags: [],
    });
    sender.enqueue(loss(1));
    expect(await sender.flush(30_000)).toEqual([]);

    await server.kill();
    sender.enqueue(loss(2));
    sender.enqueue(loss(3));
    await expect
      .poll(() => logs.filter((line) => line.startsWith('warning')).length, { timeout: 30_000 })
      .toBe(1);
    const saved = JSON.parse(await readFile(out, 'utf8')) as MlflowRunState;
    expect(saved.pending.length).toBeGreaterThanOrEqual(1);

    await server.start();
    expect(await sender.flush(120_000)).toEqual([]);
    expect(logs.filter((line) => line.startsWith('warning'))).toHaveLength(1);
    expect(logs.some((line) => line.includes('answers again'))).toBe(true);
    expect(await metricHistory(server, sender.state.runId as string, 'loss')).toEqual([
      { step: 1, value: 1 },
      { step: 2, value: 0.5 },
      { step: 3, value: 1 / 3 },
    ]);
  });
});
