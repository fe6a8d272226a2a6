/**
 * A small typed client for an MLflow tracking server's REST API (MLflow 2.x and 3.x,
 * https://mlflow.org/docs/latest/api_reference/rest-api.html). The one Node package on npm, `mlflow`
 * 2.0.7, covers experiments, runs and metrics but neither artifact uploads nor the model registry, so
 * this module speaks the few endpoints the trainer needs over Node's fetch.
 */

export interface MlflowMetric {
  key: string;
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  step: number;
}

export interface MlflowTag {
  key: string;
  value: string;
}

export type MlflowParam = MlflowTag;

export type MlflowRunStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface MlflowRunInfo {
  run_id: string;
  experiment_id: string;
  status: MlflowRunStatus;
  artifact_uri: string;
}

/** MLflow's own limits per runs/log-batch request. */
export const LOG_BATCH_LIMITS = { metrics: 1000, params: 100, tags: 100 } as const;

/**
 * What a failed request means for the caller: `unavailable` (no connection, a timeout, 5xx, 429) may
 * succeed later; `rejected` (any other 4xx) will not, sent again unchanged.
 */
export class MlflowError extends Error {
  constructor(
    message: string,
    readonly kind: 'unavailable' | 'rejected',
    readonly errorCode?: string,
  ) {
    super(message);
    this.name = 'MlflowError';
  }
}

const REQUEST_TIMEOUT_MS = 30_000;
/** Artifacts can be hundreds of MB (best.onnx): a slower timeout than the JSON calls. */
const UPLOAD_TIMEOUT_MS = 600_000;

export class MlflowClient {
  readonly baseUrl: string;

  constructor(trackingUri: string) {
    this.baseUrl = trackingUri.replace(/\/+$/, '');
  }

  /** The experiment's id, created when the server has none under that name. */
  async experimentId(name: string): Promise<string> {
    try {
      const found = await this.call<{ experiment: { experiment_id: string } }>(
        'GET',
        `experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`,
      );
      return found.experiment.experiment_id;
    } catch (error) {
      if (!(error instanceof MlflowError) || error.errorCode !== 'RESOURCE_DOES_NOT_EXIST') throw error;
    }
    const created = await this.call<{ experiment_id: string }>('POST', 'experiments/create', { name });
    return created.experiment_id;
  }

  async createRun(request: {
    experimentId: string;
    runName: string;
    startTime: number;
    tags: MlflowTag[];
  }): Promise<MlflowRunInfo> {
    const created = await this.call<{ run: { info: MlflowRunInfo } }>('POST', 'runs/create', {
      experiment_id: request.experimentId,
      run_name: request.runName,
      start_time: request.startTime,
      tags: request.tags,
    });
    return created.run.info;
  }

  async getRun(runId: string): Promise<MlflowRunInfo> {
    const found = await this.call<{ run: { info: MlflowRunInfo } }>(
      'GET',
      `runs/get?run_id=${encodeURIComponent(runId)}`,
    );
    return found.run.info;
  }

  /** The steps and values logged under `key` (one page: enough for the per-epoch metrics it checks). */
  async metricHistory(runId: string, key: string): Promise<MlflowMetric[]> {
    const found = await this.call<{
      metrics?: Array<Omit<MlflowMetric, 'step'> & { step: string | number }>;
    }>(
      'GET',
      `metrics/get-history?run_id=${encodeURIComponent(runId)}&metric_key=${encodeURIComponent(key)}&max_results=25000`,
    );
    return (found.metrics ?? []).map((metric) => ({ ...metric, step: Number(metric.step) }));
  }

  async updateRun(runId: string, status: MlflowRunStatus, endTime?: number): Promise<void> {
    await this.call('POST', 'runs/update', { run_id: runId, status, end_time: endTime });
  }

  async logBatch(
    runId: string,
    batch: { metrics?: MlflowMetric[]; params?: MlflowParam[]; tags?: MlflowTag[] },
  ): Promise<void> {
    await this.call('POST', 'runs/log-batch', { run_id: runId, ...batch });
  }

  /**
   * Uploads through the server's artifact proxy (`mlflow server` serves artifacts by default since
   * 2.0): only runs whose artifact_uri is `mlflow-artifacts:/…` can be written this way.
   */
  async uploadArtifact(artifactUri: string, artifactPath: string, content: Buffer): Promise<void> {
    const root = proxiedArtifactPath(artifactUri);
    const url = `${this.baseUrl}/api/2.0/mlflow-artifacts/artifacts/${encodePath(`${root}/${artifactPath}`)}`;
    await this.send(url, { method: 'PUT', body: new Uint8Array(content) }, UPLOAD_TIMEOUT_MS);
  }

  /** Registers `source` (a run's artifact folder) as a new version of the named model. */
  async registerModel(name: string, source: string, runId: string): Promise<string> {
    try {
      await this.call('POST', 'registered-models/create', { name });
    } catch (error) {
      if (!(error instanceof MlflowError) || error.errorCode !== 'RESOURCE_ALREADY_EXISTS') throw error;
    }
    const created = await this.call<{ model_version: { version: string } }>('POST', 'model-versions/create', {
      name,
      source,
      run_id: runId,
    });
    return created.model_version.version;
  }

  private async call<T = unknown>(method: 'GET' | 'POST', endpoint: string, body?: unknown): Promise<T> {
    const response = await this.send(
      `${this.baseUrl}/api/2.0/mlflow/${endpoint}`,
      {
        method,
        headers: body === undefined ? undefined : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      },
      REQUEST_TIMEOUT_MS,
    );
    try {
      return (await response.json()) as T;
    } catch (error) {
      // A body that is not JSON is the server's answer; one cut off (the server died mid-answer: undici's
      // "terminated") is an outage, to be sent again.
      const kind = error instanceof SyntaxError ? 'rejected' : 'unavailable';
      throw new MlflowError(`${this.baseUrl} broke off its answer (${(error as Error).message})`, kind);
    }
  }

  private async send(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new MlflowError(`${this.baseUrl} did not answer (${cause})`, 'unavailable');
    }
    if (response.ok) return response;
    const text = await response.text().catch(() => '');
    let errorCode: string | undefined;
    let message = text.slice(0, 300);
    try {
      const parsed = JSON.parse(text) as { error_code?: string; message?: string };
      errorCode = parsed.error_code;
      message = parsed.message ?? message;
    } catch {
      // Not MLflow's JSON error (a proxy's HTML page): keep the text.
    }
    const kind = response.status >= 500 || response.status === 429 ? 'unavailable' : 'rejected';
    throw new MlflowError(
      `${response.status} ${errorCode ?? ''} ${message}`.replace(/\s+/g, ' ').trim(),
      kind,
      errorCode,
    );
  }
}

/** `mlflow-artifacts:/1/abc/artifacts` (or with a host) → `1/abc/artifacts`. */
export function proxiedArtifactPath(artifactUri: string): string {
  const match = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(artifactUri);
  if (!match) {
    throw new MlflowError(
      `the run's artifacts go to ${artifactUri}, which this client cannot write; start the server with artifact serving on (\`mlflow server\` does by default, not with --no-serve-artifacts)`,
      'rejected',
    );
  }
  return match[1].replace(/\/+$/, '');
}

function encodePath(artifactPath: string): string {
  return artifactPath.split('/').map(encodeURIComponent).join('/');
}
