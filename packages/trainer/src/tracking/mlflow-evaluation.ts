/**
 * `pnpm evaluate --mlflow URI`: the scores and the report of a checkpoint, logged to the MLflow run that
 * trained it (named in its run folder's mlflow.json), or to a new run when it was not trained with
 * --mlflow.
 */
import path from 'node:path';
import { runDirOf } from '@food/core/checkpoint/run-layout';
import { MlflowClient } from './mlflow-client.ts';
import { describePending, MlflowSender, readRunState } from './mlflow-sender.ts';
import { FINISH_TIMEOUT_MS, MLFLOW_STATE_FILE } from './mlflow-tracker.ts';

export interface EvaluationToLog {
  trackingUri: string;
  checkpoint: string;
  prepared: string;
  split: string;
  /** The report folder and the files written there, relative to it. */
  out: string;
  files: string[];
  metrics: Record<string, number>;
  log: (line: string) => void;
  finishTimeoutMs?: number;
}

export async function logEvaluationToMlflow(evaluation: EvaluationToLog): Promise<void> {
  const { log, split } = evaluation;
  const client = new MlflowClient(evaluation.trackingUri);
  const runDir = runDirOf(evaluation.checkpoint);
  const trained = readRunState(path.join(runDir, MLFLOW_STATE_FILE));
  const sameServer = trained?.trackingUri === client.baseUrl && trained.runId !== undefined;
  const stateFile = path.join(sameServer ? runDir : evaluation.out, MLFLOW_STATE_FILE);
  const state = sameServer && trained ? trained : { trackingUri: client.baseUrl, pending: [] };
  const sender = new MlflowSender(client, state, stateFile, log);
  if (!sameServer) {
    const runName = `${path.basename(runDir)}-${split}`;
    log(`mlflow: ${runDir} has no run on ${client.baseUrl}; logging the evaluation as run ${runName}`);
    sender.enqueue({
      kind: 'create-run',
      experimentName: process.env.MLFLOW_EXPERIMENT_NAME || path.basename(path.resolve(evaluation.prepared)),
      runName,
      startTime: Date.now(),
      tags: [{ key: 'mlflow.source.name', value: 'pnpm evaluate' }],
    });
  }
  const timestamp = Date.now();
  sender.enqueue({
    kind: 'log',
    metrics: Object.entries(evaluation.metrics)
      .filter(([, value]) => Number.isFinite(value))
      .map(([key, value]) => ({ key: `${split}/${key}`, value, timestamp, step: 0 })),
    params: [],
    tags: [{ key: `evaluation.${split}.checkpoint`, value: path.resolve(evaluation.checkpoint) }],
  });
  for (const file of evaluation.files) {
    sender.enqueue({
      kind: 'artifact',
      file: path.join(evaluation.out, file),
      artifactPath: `evaluation/${split}/${file}`,
    });
  }
  if (!sameServer) sender.enqueue({ kind: 'status', status: 'FINISHED', endTime: Date.now() });
  const unsent = await sender.flush(evaluation.finishTimeoutMs ?? FINISH_TIMEOUT_MS);
  if (unsent.length > 0) {
    log(
      `warning: mlflow: not sent to ${client.baseUrl}: ${describePending(unsent)}; kept in ${stateFile}, and the next --mlflow run of this folder sends them`,
    );
  } else {
    log(`mlflow: logged the ${split} evaluation to run ${state.runId}`);
  }
}
