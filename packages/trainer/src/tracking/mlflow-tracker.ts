/**
 * `pnpm train --mlflow URI`: the run as an MLflow run. Params are every setting of the run, metrics are
 * logged every N steps and per epoch, history and curves after every epoch, and when the run ends its
 * model (best.onnx and the `best` checkpoint) and a model card, registered under `--mlflow-register`.
 * The MLflow run's id is kept in the run folder (mlflow.json), so `--resume` continues the same run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import { CHECKPOINT_FILES } from '@food/core/checkpoint/layout';
import { defaultOnnxPath, RUN_FILES, runPaths } from '@food/core/checkpoint/run-layout';
import { UserError } from '@food/core/errors';
import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../train/run-config.ts';
import { MlflowClient, type MlflowMetric, type MlflowRunStatus, type MlflowTag } from './mlflow-client.ts';
import { describePending, MlflowSender, type PendingRequest, readRunState } from './mlflow-sender.ts';
import { epochMetrics, StepWindow, type Tracker, type TrainingEnd } from './tracker.ts';

/** The run folder's file that names its MLflow run. */
export const MLFLOW_STATE_FILE = 'mlflow.json';

/** How long the end of a run waits for an unreachable server before saying what was not sent. */
export const FINISH_TIMEOUT_MS = 20_000;

export interface MlflowTrackingOptions {
  trackingUri: string;
  /** `--mlflow-register NAME`: register the model when the run completes. */
  registerAs?: string;
  /** Log step metrics every N optimizer steps. */
  everySteps: number;
  config: TrainConfig;
  /** Continue the MLflow run named in the run folder (`--resume`) rather than start one. */
  resume: boolean;
  /** Tags describing where the run trains, e.g. `{ backend: 'tensorflow (CPU)' }`. */
  environment: Record<string, string>;
  log: (line: string) => void;
  /** Waiting for the server at the end of the run (default FINISH_TIMEOUT_MS). */
  finishTimeoutMs?: number;
}

/** `--mlflow URI`, else MLflow's own MLFLOW_TRACKING_URI; only http(s) servers are spoken to. */
export function resolveTrackingUri(flag: string | undefined, env = process.env): string | undefined {
  const uri = flag ?? env.MLFLOW_TRACKING_URI;
  if (uri === undefined || uri === '') return undefined;
  if (!/^https?:\/\//.test(uri)) {
    throw new UserError(
      `--mlflow ${uri}: expected an MLflow tracking server such as http://127.0.0.1:5000 (a file store needs \`mlflow server --backend-store-uri ${uri}\` in front of it).`,
    );
  }
  return uri;
}

export function openMlflowTracker(options: MlflowTrackingOptions): Tracker {
  const { config, log } = options;
  const client = new MlflowClient(options.trackingUri);
  const stateFile = path.join(config.out, MLFLOW_STATE_FILE);
  const previous = readRunState(stateFile);
  const continuing =
    options.resume && previous?.trackingUri === client.baseUrl && previous.runId !== undefined;
  const state = continuing && previous ? previous : { trackingUri: client.baseUrl, pending: [] };
  const sender = new MlflowSender(client, state, stateFile, log);
  log(
    continuing
      ? `mlflow: continuing run ${state.runId} at ${client.baseUrl}`
      : `mlflow: logging to ${client.baseUrl}, experiment ${experimentName(config)}`,
  );
  // The MLflow run starts with the first step: a command refused before training (an --out that holds
  // a run, without --resume) must neither create a run nor replace the one mlflow.json names.
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    if (continuing) {
      sender.enqueue({ kind: 'status', status: 'RUNNING' });
      sender.enqueue({ kind: 'backfill-epochs', runDir: config.out });
      return;
    }
    sender.enqueue({
      kind: 'create-run',
      experimentName: experimentName(config),
      runName: path.basename(path.resolve(config.out)),
      startTime: Date.now(),
      tags: runTags(options.environment),
    });
    sender.enqueue({ kind: 'log', metrics: [], params: runParams(config), tags: [] });
  };
  const window = new StepWindow();
  return {
    step: (step) => {
      start();
      window.add(step);
      if (step.globalStep % options.everySteps !== 0) return;
      const { loss, accuracy, imagesPerSecond } = window.take();
      const values = {
        'step/loss': loss,
        'step/accuracy': accuracy,
        'step/learning_rate': step.learningRate,
        'step/images_per_second': imagesPerSecond,
      };
      sender.enqueue({ kind: 'log', metrics: metricsOf(values, step.globalStep), params: [], tags: [] });
    },
    epoch: (record) => {
      start();
      sender.enqueue({
        kind: 'log',
        metrics: metricsOf(epochMetrics(record), record.epoch),
        params: [],
        tags: [],
      });
      for (const file of [RUN_FILES.historyJson, RUN_FILES.historyCsv, RUN_FILES.curves]) {
        sender.enqueue({ kind: 'artifact', file: path.join(config.out, file), artifactPath: file });
      }
    },
    finish: async (end) => {
      // Nothing trained (refused, or already complete): only what an earlier session left unsent goes.
      if (started) {
        for (const request of await endOfRun(end, options.registerAs)) sender.enqueue(request);
      }
      const unsent = await sender.flush(options.finishTimeoutMs ?? FINISH_TIMEOUT_MS);
      if (unsent.length > 0) {
        log(
          `warning: mlflow: not sent to ${client.baseUrl}: ${describePending(unsent)}; kept in ${stateFile}, and \`pnpm train … --resume --mlflow ${client.baseUrl}\` sends them`,
        );
      } else if (state.runId) {
        log(
          `mlflow: run ${state.runId}: ${client.baseUrl}/#/experiments/${state.experimentId}/runs/${state.runId}`,
        );
      }
    },
  };
}

/** MLFLOW_EXPERIMENT_NAME (MLflow's own variable), else the prepared set's folder name. */
function experimentName(config: TrainConfig): string {
  return process.env.MLFLOW_EXPERIMENT_NAME || path.basename(path.resolve(config.prepared));
}

/** Every setting of the run; `resume` and `overwrite` say how it was started, not what it trains. */
export function runParams(config: TrainConfig): MlflowTag[] {
  const { resume: _resume, overwrite: _overwrite, ...settings } = config;
  return Object.entries(settings)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => ({
      key,
      // MLflow 2.x keeps at most 500 characters of a param.
      value: (typeof value === 'object' && !Array.isArray(value)
        ? JSON.stringify(value)
        : String(value)
      ).slice(0, 500),
    }));
}

function runTags(environment: Record<string, string>): MlflowTag[] {
  const tags: Record<string, string> = {
    'mlflow.source.name': 'pnpm train',
    'mlflow.source.type': 'LOCAL',
    'mlflow.user': safely(() => userInfo().username) ?? 'unknown',
    'versions.node': process.versions.node,
    'versions.tfjs': tf.version.tfjs,
    ...environment,
  };
  const commit = safely(() =>
    execFileSync('git', ['rev-parse', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim(),
  );
  if (commit) tags['mlflow.source.git.commit'] = commit;
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}

function safely<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function metricsOf(values: Record<string, number>, step: number): MlflowMetric[] {
  const timestamp = Date.now();
  return Object.entries(values)
    .filter(([, value]) => Number.isFinite(value))
    .map(([key, value]) => ({ key, value, timestamp, step }));
}

const END_STATUS: Record<TrainingEnd['status'], MlflowRunStatus> = {
  completed: 'FINISHED',
  'already-complete': 'FINISHED',
  stopped: 'KILLED',
  'max-steps': 'KILLED',
  failed: 'FAILED',
};

/** A completed run's model folder (best.onnx, the `best` checkpoint, a model card) and its registration. */
async function endOfRun(end: TrainingEnd, registerAs: string | undefined): Promise<PendingRequest[]> {
  const requests: PendingRequest[] = [];
  if (end.status === 'completed') {
    const best = runPaths(end.runDir).best;
    const modelFiles = [
      { file: defaultOnnxPath(best), artifactPath: 'model/best.onnx' },
      ...Object.values(CHECKPOINT_FILES)
        .filter((name) => name !== CHECKPOINT_FILES.trainingState && name !== CHECKPOINT_FILES.optimizer)
        .map((name) => ({ file: path.join(best, name), artifactPath: `model/best/${name}` })),
    ];
    const card = path.join(end.runDir, 'MODEL_CARD.md');
    await writeFile(card, modelCard(end.runDir));
    modelFiles.push({ file: card, artifactPath: 'model/MODEL_CARD.md' });
    for (const { file, artifactPath } of modelFiles) {
      if (existsSync(file)) requests.push({ kind: 'artifact', file, artifactPath });
    }
    if (registerAs) requests.push({ kind: 'register', name: registerAs, artifactPath: 'model' });
  }
  requests.push({ kind: 'status', status: END_STATUS[end.status], endTime: Date.now() });
  return requests;
}

function modelCard(runDir: string): string {
  return `# ${path.basename(path.resolve(runDir))}

A Food-101 classifier trained by \`pnpm train\` (ResNet-50, TensorFlow.js).

- \`best.onnx\`: the model for ONNX Runtime, the input normalised by \`best/preprocess.json\`.
- \`best/\`: the checkpoint (\`model.json\`, \`weights.bin\`), its classes (\`labels.json\`), preprocessing
  (\`preprocess.json\`), settings (\`run-config.json\`) and validation scores (\`metrics.json\`).

Serve it with \`pnpm serve --checkpoint best\` after downloading this folder; the run's params, metrics and
\`history.json\` say how it was trained. The scores on the test split are in \`evaluation/\` when
\`pnpm evaluate --mlflow\` has run.
`;
}
