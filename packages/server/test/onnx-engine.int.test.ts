import path from 'node:path';
import { multipartBody } from '@food/core/testing/multipart-body';
import { gradient, makePng } from '@food/core/testing/synthetic-images';
import { createTinyCheckpoint, TINY_CLASSES, type TinyCheckpoint } from '@food/core/testing/tiny-checkpoint';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { exportOnnxBeside } from './helpers/browser-test.ts';

// `--engine onnx` end to end: the trainer's export CLI (run as a process: the server never imports the
// trainer) writes the .onnx beside the checkpoint, and the API answers with the tfjs engine's
// probabilities to 1e-4.
let checkpoint: TinyCheckpoint;
let tfjsApp: FastifyInstance;
let onnxApp: FastifyInstance;

beforeAll(async () => {
  checkpoint = await createTinyCheckpoint({ withAssets: false });
  const exported = exportOnnxBeside(checkpoint.dir);
  expect(exported.ok, exported.stderr).toBe(true);
  tfjsApp = await buildApp({ checkpoint: checkpoint.dir, workers: 0, backend: 'cpu', engine: 'tfjs' });
  onnxApp = await buildApp({ checkpoint: checkpoint.dir, workers: 1, engine: 'onnx' });
  await Promise.all([tfjsApp.classifier.ready, onnxApp.classifier.ready]);
});

afterAll(async () => {
  await Promise.all([tfjsApp?.close(), onnxApp?.close()]);
  await checkpoint?.cleanup();
});

describe('POST /api/predict with --engine onnx', () => {
  it('gives the tfjs probabilities for the same photo, within 1e-4', async () => {
    for (const seed of [1, 2, 3]) {
      const { payload, headers } = multipartBody([
        { name: 'image', value: makePng(90, 60, gradient(seed)), filename: `photo-${seed}.png` },
      ]);
      const ask = async (app: FastifyInstance) => {
        const url = `/api/predict?topK=${TINY_CLASSES.length}`;
        const response = await app.inject({ method: 'POST', url, payload, headers });
        expect(response.statusCode).toBe(200);
        const byLabel = new Map<string, number>();
        for (const { label, probability } of response.json().predictions) byLabel.set(label, probability);
        return byLabel;
      };
      const [tfjs, onnx] = [await ask(tfjsApp), await ask(onnxApp)];
      for (const label of TINY_CLASSES)
        expect(Math.abs(tfjs.get(label)! - onnx.get(label)!)).toBeLessThan(1e-4);
    }
  });

  it('is what --engine auto (the default) picks, and /api/model says so', async () => {
    const app = await buildApp({ checkpoint: checkpoint.dir, workers: 0 });
    const { engine } = (await app.inject('/api/model')).json();
    expect(engine).toMatchObject({ name: 'onnx', precision: 'float32' });
    expect(engine.file).toMatch(/\/best\.onnx$/);
    await app.close();
  });

  it('refuses to start without an exported model, and says how to make one', async () => {
    const error = await buildApp({
      checkpoint: checkpoint.dir,
      workers: 0,
      engine: 'onnx',
      onnxModel: path.join(checkpoint.dir, 'missing.onnx'),
    })
      .then((app) => app.classifier.ready.then(() => app.close()))
      .catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toMatch(/export/);
  });
});
