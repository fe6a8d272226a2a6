/**
 * The real MLflow and TensorBoard the tracking tests run against: the `mlflow` and `tensorboard` PyPI
 * packages in a virtual environment that `.ci/run` creates at `.venv-tracking` (pinned in
 * `.ci/tracking-requirements.txt`), or the one FOOD_TRACKING_VENV names.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './run-trainer.ts';

export const trackingVenv = process.env.FOOD_TRACKING_VENV ?? path.join(repoRoot, '.venv-tracking');
const python = path.join(trackingVenv, 'bin', 'python');
const mlflowBin = path.join(trackingVenv, 'bin', 'mlflow');

/** Why the tracking tests cannot run here, or undefined when they can (for the skipped test's title). */
export const trackingSkipReason: string | undefined = existsSync(mlflowBin)
  ? undefined
  : `no mlflow/tensorboard in ${trackingVenv} (.ci/run installs them; or set FOOD_TRACKING_VENV)`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface MlflowServer {
  url: string;
  /** SIGKILL the server and its workers, as a crash does. */
  kill(): Promise<void>;
  /** Starts it again on the same port and store. */
  start(): Promise<void>;
}

/** `mlflow server` on a free loopback port with a temporary SQLite store and artifact folder. */
export async function startMlflowServer(): Promise<MlflowServer> {
  const store = await mkdtemp(path.join(tmpdir(), 'food-mlflow-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(
      mlflowBin,
      [
        'server',
        ...['--host', '127.0.0.1', '--port', String(port), '--workers', '1'],
        ...['--backend-store-uri', `sqlite:///${path.join(store, 'mlflow.db')}`],
        ...['--artifacts-destination', path.join(store, 'artifacts')],
      ],
      // Its own process group, so kill() reaches the workers it starts.
      { detached: true, stdio: 'ignore', cwd: store },
    );
    const deadline = Date.now() + 180_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`mlflow server exited with ${child.exitCode}`);
      const healthy = await fetch(`${url}/health`).then(
        (response) => response.ok,
        () => false,
      );
      if (healthy) return;
      if (Date.now() > deadline) throw new Error(`mlflow server did not answer on ${url} in 180 s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  const kill = async () => {
    if (!child?.pid || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch (error) {
      // The group is already gone (its leader exited between the check and the kill).
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      return;
    }
    await exited;
  };
  await start();
  return { url, kill, start };
}

/** MLflow's REST API, as the checks read it. */
export async function mlflowGet<T>(server: { url: string }, endpoint: string): Promise<T> {
  const response = await fetch(`${server.url}/api/2.0/mlflow/${endpoint}`);
  if (!response.ok) throw new Error(`GET ${endpoint}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export async function metricHistory(
  server: { url: string },
  runId: string,
  key: string,
): Promise<Array<{ step: number; value: number }>> {
  const { metrics = [] } = await mlflowGet<{ metrics?: Array<{ step: string | number; value: number }> }>(
    server,
    `metrics/get-history?run_id=${runId}&metric_key=${encodeURIComponent(key)}&max_results=10000`,
  );
  return metrics
    .map((metric) => ({ step: Number(metric.step), value: metric.value }))
    .sort((a, b) => a.step - b.step);
}

/** Every artifact file of a run, with its size. */
export async function listArtifacts(
  server: { url: string },
  runId: string,
  folder = '',
): Promise<Record<string, number>> {
  const { files = [] } = await mlflowGet<{
    files?: Array<{ path: string; is_dir: boolean; file_size?: string }>;
  }>(server, `artifacts/list?run_id=${runId}${folder ? `&path=${encodeURIComponent(folder)}` : ''}`);
  const listed: Record<string, number> = {};
  for (const file of files) {
    if (file.is_dir) Object.assign(listed, await listArtifacts(server, runId, file.path));
    else listed[file.path] = Number(file.file_size);
  }
  return listed;
}

export interface TensorboardEvents {
  /** Tag → [step, value] pairs: simple_value scalars and TF2 scalar tensors (tfjs-node's writer) alike. */
  scalars: Record<string, Array<[number, number]>>;
  /** Tag → [step, width, height] per image. */
  images: Record<string, Array<[number, number, number]>>;
}

const READ_EVENTS = `
import json, sys
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.util import tensor_util
acc = ea.EventAccumulator(sys.argv[1], size_guidance={ea.SCALARS: 0, ea.IMAGES: 0, ea.TENSORS: 0})
acc.Reload()
tags = acc.Tags()
scalars = {t: [[e.step, e.value] for e in acc.Scalars(t)] for t in tags['scalars']}
for t in tags['tensors']:
    scalars[t] = [[e.step, float(tensor_util.make_ndarray(e.tensor_proto))] for e in acc.Tensors(t)]
images = {t: [[e.step, e.width, e.height] for e in acc.Images(t)] for t in tags['images']}
print(json.dumps({'scalars': scalars, 'images': images}))
`;

/** The events of one run folder, as TensorBoard's own event_accumulator reads them. */
export async function readTensorboardEvents(logdir: string): Promise<TensorboardEvents> {
  const { stdout } = await promisify(execFile)(python, ['-c', READ_EVENTS, logdir], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as TensorboardEvents;
}
