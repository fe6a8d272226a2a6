/**
 * Everything sent to MLflow goes through this queue, so a server that is down or fails mid-run never
 * stops training: a request that cannot get through stays queued (and saved in the run folder's
 * mlflow.json), the user is warned once per outage, and the queue is sent again with a growing delay
 * until the server answers. What is still queued when the run ends is named, and the next
 * `pnpm train --resume --mlflow` (or `pnpm evaluate --mlflow`) sends it.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readHistory } from '../train/history.ts';
import {
  LOG_BATCH_LIMITS,
  type MlflowClient,
  MlflowError,
  type MlflowMetric,
  type MlflowParam,
  type MlflowRunStatus,
  type MlflowTag,
} from './mlflow-client.ts';
import { epochMetrics } from './tracker.ts';

export type PendingRequest =
  | { kind: 'create-run'; experimentName: string; runName: string; startTime: number; tags: MlflowTag[] }
  | { kind: 'log'; metrics: MlflowMetric[]; params: MlflowParam[]; tags: MlflowTag[] }
  | { kind: 'artifact'; file: string; artifactPath: string }
  /** The epochs of the run folder's history.json the server lacks (a kill -9 can beat their sending). */
  | { kind: 'backfill-epochs'; runDir: string }
  | { kind: 'status'; status: MlflowRunStatus; endTime?: number }
  | { kind: 'register'; name: string; artifactPath: string };

/** The run folder's mlflow.json: which MLflow run this training run is, and what is not sent yet. */
export interface MlflowRunState {
  trackingUri: string;
  experimentId?: string;
  runId?: string;
  artifactUri?: string;
  pending: PendingRequest[];
}

export function readRunState(file: string): MlflowRunState | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as MlflowRunState;
  } catch {
    return undefined;
  }
}

const FIRST_RETRY_MS = 1000;
/** The per-epoch metric whose history tells which epochs the server has. */
const EPOCH_KEY = 'epoch/val_top1';
const LONGEST_RETRY_MS = 30_000;

export class MlflowSender {
  private sending: Promise<void> | undefined;
  private retryDelay = 0;
  private retryAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private outage: string | undefined;
  private readonly refused: string[] = [];
  private saveFailed = false;
  /** How many requests the state file lists as not sent. */
  private savedPending = 0;

  constructor(
    private readonly client: MlflowClient,
    readonly state: MlflowRunState,
    private readonly stateFile: string,
    private readonly log: (line: string) => void,
  ) {}

  enqueue(request: PendingRequest): void {
    this.state.pending.push(request);
    // While the server is away, a killed process must not take what it missed with it.
    if (this.outage) this.save();
    void this.send();
  }

  /**
   * Sends the queue, retrying until it is empty or `timeoutMs` has passed; returns what is left (also
   * saved in the state file).
   */
  async flush(timeoutMs: number): Promise<PendingRequest[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.send();
      if (this.state.pending.length === 0 || Date.now() >= deadline) break;
      const wait = Math.min(Math.max(0, this.retryAt - Date.now()), deadline - Date.now());
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    clearTimeout(this.retryTimer);
    this.save();
    return this.state.pending;
  }

  /** Requests the server refused (a 4xx): they were dropped, as sending them again would fail again. */
  get refusedRequests(): readonly string[] {
    return this.refused;
  }

  private send(): Promise<void> {
    this.sending ??= this.sendQueued().finally(() => {
      this.sending = undefined;
    });
    return this.sending;
  }

  private async sendQueued(): Promise<void> {
    while (this.state.pending.length > 0 && Date.now() >= this.retryAt) {
      const count = this.nextBatchSize();
      try {
        await this.perform(this.state.pending.slice(0, count));
        const [sent] = this.state.pending.splice(0, count);
        this.serverAnswered();
        // The file must name the new run and no longer hold its creation, or --resume would create it again.
        if (sent.kind === 'create-run') this.save();
      } catch (error) {
        if (!(error instanceof MlflowError) || error.kind === 'rejected') {
          this.drop(count, error);
          continue;
        }
        this.serverAway(error.message);
        return;
      }
    }
    // Requests the file still lists were sent: a resumed run must not send them twice.
    if (this.savedPending > 0) this.save();
  }

  /** Consecutive `log` requests go as one runs/log-batch, within MLflow's limits. */
  private nextBatchSize(): number {
    const queue = this.state.pending;
    if (queue[0].kind !== 'log') return 1;
    const totals = { metrics: 0, params: 0, tags: 0 };
    let count = 0;
    for (const request of queue) {
      if (request.kind !== 'log') break;
      const metrics = totals.metrics + request.metrics.length;
      const params = totals.params + request.params.length;
      const tags = totals.tags + request.tags.length;
      const fits =
        metrics <= LOG_BATCH_LIMITS.metrics &&
        params <= LOG_BATCH_LIMITS.params &&
        tags <= LOG_BATCH_LIMITS.tags;
      if (count > 0 && !fits) break;
      Object.assign(totals, { metrics, params, tags });
      count++;
    }
    return count;
  }

  private async perform(requests: PendingRequest[]): Promise<void> {
    const [first] = requests;
    if (first.kind === 'create-run') {
      const experimentId = await this.client.experimentId(first.experimentName);
      const run = await this.client.createRun({ experimentId, ...first });
      Object.assign(this.state, { experimentId, runId: run.run_id, artifactUri: run.artifact_uri });
      return;
    }
    const runId = this.state.runId;
    const artifactUri = this.state.artifactUri;
    if (!runId || !artifactUri) throw new MlflowError('no MLflow run was created for this run', 'rejected');
    switch (first.kind) {
      case 'log': {
        const logs = requests as Extract<PendingRequest, { kind: 'log' }>[];
        return this.client.logBatch(runId, {
          metrics: logs.flatMap((log) => log.metrics),
          params: logs.flatMap((log) => log.params),
          tags: logs.flatMap((log) => log.tags),
        });
      }
      case 'artifact':
        return this.client.uploadArtifact(artifactUri, first.artifactPath, await readArtifact(first.file));
      case 'status':
        return this.client.updateRun(runId, first.status, first.endTime);
      case 'backfill-epochs':
        return this.backfillEpochs(runId, first.runDir);
      case 'register': {
        const version = await this.client.registerModel(
          first.name,
          `${artifactUri}/${first.artifactPath}`,
          runId,
        );
        this.log(`mlflow: registered ${first.name} version ${version}`);
      }
    }
  }

  private async backfillEpochs(runId: string, runDir: string): Promise<void> {
    const logged = new Set((await this.client.metricHistory(runId, EPOCH_KEY)).map((metric) => metric.step));
    const timestamp = Date.now();
    const metrics = (await readHistory(runDir))
      .filter((record) => !logged.has(record.epoch))
      .flatMap((record) =>
        Object.entries(epochMetrics(record))
          .filter(([, value]) => Number.isFinite(value))
          .map(([key, value]) => ({ key, value, timestamp, step: record.epoch })),
      );
    for (let start = 0; start < metrics.length; start += LOG_BATCH_LIMITS.metrics) {
      await this.client.logBatch(runId, { metrics: metrics.slice(start, start + LOG_BATCH_LIMITS.metrics) });
    }
  }

  private drop(count: number, error: unknown): void {
    const dropped = this.state.pending.splice(0, count);
    const what = describePending(dropped);
    this.refused.push(what);
    this.log(`mlflow: the server refused ${what} (${(error as Error).message}); it is not sent again`);
    // Without the run nothing else can be sent: say so once instead of once per request.
    if (dropped[0].kind === 'create-run') {
      const rest = this.state.pending.splice(0);
      if (rest.length > 0) this.refused.push(describePending(rest));
    }
    this.save();
  }

  private serverAway(reason: string): void {
    if (!this.outage) {
      this.log(
        `warning: mlflow: ${reason}; training goes on, and what the server missed is kept (${this.stateFile}) and sent when it answers`,
      );
    }
    this.outage = reason;
    this.retryDelay = Math.min(
      LONGEST_RETRY_MS,
      this.retryDelay === 0 ? FIRST_RETRY_MS : this.retryDelay * 2,
    );
    this.retryAt = Date.now() + this.retryDelay;
    this.save();
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.send(), this.retryDelay);
    // The retry must not keep a finished process alive.
    this.retryTimer.unref();
  }

  private serverAnswered(): void {
    if (this.outage) {
      this.log(`mlflow: ${this.client.baseUrl} answers again; sending what it missed`);
      this.outage = undefined;
      this.save();
    }
    this.retryDelay = 0;
  }

  /** Never throws: a state file that cannot be written must not stop training (it is said once). */
  private save(): void {
    const temporary = `${this.stateFile}.tmp.${process.pid}`;
    try {
      // The run folder may not exist yet: the run is created on the server before training sets it up.
      mkdirSync(path.dirname(this.stateFile), { recursive: true });
      writeFileSync(temporary, `${JSON.stringify(this.state, null, 2)}\n`);
      renameSync(temporary, this.stateFile);
      this.savedPending = this.state.pending.length;
    } catch (error) {
      if (!this.saveFailed)
        this.log(`warning: mlflow: cannot write ${this.stateFile}: ${(error as Error).message}`);
      this.saveFailed = true;
    }
  }
}

async function readArtifact(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new MlflowError(`cannot read ${file}: ${(error as Error).message}`, 'rejected');
  }
}

/** "12 metric values, 2 artifacts (history.json, curves.svg) and the run's status", for messages. */
export function describePending(requests: readonly PendingRequest[]): string {
  const metrics = requests.reduce(
    (sum, request) => sum + (request.kind === 'log' ? request.metrics.length : 0),
    0,
  );
  const params = requests.reduce(
    (sum, request) => sum + (request.kind === 'log' ? request.params.length : 0),
    0,
  );
  const artifacts = requests.flatMap((request) =>
    request.kind === 'artifact' ? [request.artifactPath] : [],
  );
  const parts = [
    requests.some((request) => request.kind === 'create-run') ? 'the run itself' : '',
    metrics > 0 ? `${metrics} metric values` : '',
    params > 0 ? `${params} params` : '',
    artifacts.length > 0 ? `${artifacts.length} artifacts (${artifacts.join(', ')})` : '',
    requests.some((request) => request.kind === 'status') ? "the run's status" : '',
    requests.some((request) => request.kind === 'register') ? 'the model registration' : '',
  ];
  return parts.filter(Boolean).join(', ') || 'nothing';
}
