import { resolveRunConfig } from '@food/core/checkpoint/run-config';
import { UserError } from '@food/core/errors';
import { describe, expect, it } from 'vitest';
import { proxiedArtifactPath } from '../../src/tracking/mlflow-client.ts';
import { describePending } from '../../src/tracking/mlflow-sender.ts';
import { resolveTrackingUri, runParams } from '../../src/tracking/mlflow-tracker.ts';
import { openTrainingTrackers } from '../../src/tracking/open-trackers.ts';
import type { TrainConfig } from '../../src/train/run-config.ts';

const config: TrainConfig = resolveRunConfig({
  blocksPerStage: [3, 4, 6, 3],
  prepared: 'data/prepared/food10',
  out: 'checkpoints/food10',
  weights: 'none',
  backend: 'wasm',
  resume: 'auto',
  overwrite: false,
  dataset: { name: 'food10', synthetic: false },
});

describe('resolveTrackingUri', () => {
  it('takes --mlflow, else MLFLOW_TRACKING_URI, else none', () => {
    expect(resolveTrackingUri('http://a:5000', { MLFLOW_TRACKING_URI: 'http://b:5000' })).toBe(
      'http://a:5000',
    );
    expect(resolveTrackingUri(undefined, { MLFLOW_TRACKING_URI: 'http://b:5000' })).toBe('http://b:5000');
    expect(resolveTrackingUri(undefined, {})).toBeUndefined();
  });

  it('refuses what is not an http(s) server, saying what to do', () => {
    expect(() => resolveTrackingUri('file:///tmp/mlruns', {})).toThrow(UserError);
    expect(() => resolveTrackingUri('databricks', {})).toThrow(/expected an MLflow tracking server/);
  });
});

describe('runParams', () => {
  it('is every setting of the run, without how it was started', () => {
    const params = Object.fromEntries(runParams(config).map(({ key, value }) => [key, value]));
    expect(params).toMatchObject({
      learningRate: '0.00001',
      epochs: '14',
      blocksPerStage: '3,4,6,3',
      dataset: '{"name":"food10","synthetic":false}',
    });
    expect(params).not.toHaveProperty('resume');
    expect(params).not.toHaveProperty('overwrite');
  });
});

describe('describePending', () => {
  it('names what was not sent', () => {
    expect(
      describePending([
        { kind: 'log', metrics: [{ key: 'a', value: 1, step: 1, timestamp: 0 }], params: [], tags: [] },
        { kind: 'artifact', file: '/x/history.json', artifactPath: 'history.json' },
        { kind: 'status', status: 'FINISHED' },
      ]),
    ).toBe("1 metric values, 1 artifacts (history.json), the run's status");
  });
});

describe('proxiedArtifactPath', () => {
  it("is the run's folder under the server's artifact proxy", () => {
    expect(proxiedArtifactPath('mlflow-artifacts:/3/abc/artifacts')).toBe('3/abc/artifacts');
    expect(proxiedArtifactPath('mlflow-artifacts://host:5000/3/abc/artifacts')).toBe('3/abc/artifacts');
    expect(() => proxiedArtifactPath('s3://bucket/3/abc/artifacts')).toThrow(/--no-serve-artifacts/);
  });
});

describe('openTrainingTrackers', () => {
  it('opens nothing without tracking flags', async () => {
    expect(await openTrainingTrackers({}, config, { name: 'wasm', gpu: false }, () => {})).toBeUndefined();
  });

  it('refuses --mlflow-register without a server before anything trains', async () => {
    const previous = process.env.MLFLOW_TRACKING_URI;
    delete process.env.MLFLOW_TRACKING_URI;
    try {
      await expect(
        openTrainingTrackers({ mlflowRegister: 'food10' }, config, { name: 'wasm', gpu: false }, () => {}),
      ).rejects.toThrow(/--mlflow-register needs an MLflow server/);
    } finally {
      if (previous !== undefined) process.env.MLFLOW_TRACKING_URI = previous;
    }
  });
});
