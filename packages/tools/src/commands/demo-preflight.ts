import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { UserError } from '@food/core/errors';

/** What the demo was asked to do, checked before it touches anything. */
export interface DemoInputs {
  data?: string;
  weights?: string;
  classes?: number;
  checkpoint?: string;
  serve: boolean;
  port: number;
}

/**
 * Every check that can fail on the user's input, before any work or any change to the previous demo's
 * folders: a typo in --weights used to cost the whole pipeline and the previous report, a busy port was
 * found only after it. Returns the number of classes to sample.
 */
export async function checkDemoInputs(inputs: DemoInputs): Promise<number> {
  if (inputs.weights !== undefined && !inputs.data && !inputs.checkpoint) {
    throw new UserError(
      '--weights fine-tunes on real photos: pass them with --data (a Food-101-layout folder such as ../shared/data/food10).',
      'DEMO_NEEDS_DATA',
    );
  }
  const available = inputs.data ? await countClasses(inputs.data) : undefined;
  if (inputs.classes !== undefined && available !== undefined && inputs.classes > available) {
    throw new UserError(
      `--classes ${inputs.classes} asks for more classes than ${inputs.data} holds (${available}).`,
      'DEMO_TOO_MANY_CLASSES',
    );
  }
  if (inputs.weights !== undefined) await checkWeights(inputs.weights);
  if (inputs.checkpoint !== undefined) await checkFolder(inputs.checkpoint, '--checkpoint');
  if (inputs.serve) await checkPortFree(inputs.port, process.env.HOST || '127.0.0.1');
  return inputs.classes ?? available ?? 6;
}

/** Classes of a Food-101-layout folder (meta/classes.txt), so a real demo uses them all by default. */
async function countClasses(dataRoot: string): Promise<number> {
  const file = path.join(dataRoot, 'meta', 'classes.txt');
  const text = await readFile(file, 'utf8').catch(() => {
    throw new UserError(`${file} is missing: --data must be a Food-101-layout folder.`, 'DEMO_NOT_FOOD101');
  });
  return text.split('\n').filter((line) => line.trim() !== '').length;
}

/** --weights: a folder written by import-weights (or a TF.js model folder), or a manifest or .h5 file. */
async function checkWeights(weights: string): Promise<void> {
  const info = await stat(weights).catch(() => undefined);
  const hint =
    'Pass ../shared/weights/resnet50-imagenet, or data/weights/resnet50-imagenet after `pnpm trainer import-weights`.';
  if (!info)
    throw new UserError(`--weights ${weights}: no such file or folder. ${hint}`, 'WEIGHTS_NOT_FOUND');
  if (!info.isDirectory()) return;
  for (const name of ['weights_manifest.json', 'model.json']) {
    if (await stat(path.join(weights, name)).catch(() => undefined)) return;
  }
  throw new UserError(
    `--weights ${weights} holds neither weights_manifest.json nor model.json. ${hint}`,
    'WEIGHTS_NOT_FOUND',
  );
}

async function checkFolder(dir: string, flag: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new UserError(`${flag} ${dir}: no such folder.`, 'DEMO_PATH_MISSING');
  }
}

/** The port the server will listen on is free now (the demo serves only after minutes of work). */
function checkPortFree(port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE') return reject(error);
      reject(
        new UserError(
          `port ${port} on ${host} is already in use: stop the other server, or pick another port with --port (or --no-serve).`,
          'PORT_IN_USE',
        ),
      );
    });
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}
