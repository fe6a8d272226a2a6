import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { saveCheckpoint } from '@food/core/checkpoint/save-checkpoint';
import { buildResNet50 } from '@food/core/model/resnet50';
import type { PreprocessConfig } from '@food/core/preprocess/config';

export const TINY_CLASSES = ['apple_pie', 'chicken_wings', 'french_fries', 'ramen', 'sushi'];

export const TINY_PREPROCESS: PreprocessConfig = {
  version: 1,
  resizeShorterSide: 36,
  cropSize: 32,
  interpolation: 'bilinear',
  mean: [0.55, 0.45, 0.35],
  std: [0.25, 0.25, 0.25],
  channelOrder: 'RGB',
};

export interface TinyCheckpoint {
  /** The checkpoint folder, `<tmp>/tiny-run/best`. */
  dir: string;
  cleanup(): Promise<void>;
}

/**
 * A real checkpoint (saveCheckpoint) of a tiny ResNet (width 1/16, one block per stage, 32×32 input,
 * 5 classes), with metrics and a curves.svg, so the server runs the production path end to end in seconds.
 */
export async function createTinyCheckpoint(
  options: { withAssets?: boolean; classes?: string[]; runConfig?: Record<string, unknown> } = {},
): Promise<TinyCheckpoint> {
  const classes = options.classes ?? TINY_CLASSES;
  await initBackend('cpu', () => {});
  const root = await mkdtemp(path.join(tmpdir(), 'food-server-'));
  const dir = path.join(root, 'tiny-run', 'best');
  const model = buildResNet50({
    numClasses: classes.length,
    inputSize: 32,
    widthMultiplier: 1 / 16,
    blocksPerStage: [1, 1, 1, 1],
    seed: 7,
  });
  await saveCheckpoint(dir, {
    model,
    preprocess: TINY_PREPROCESS,
    labels: { classes },
    runConfig: options.runConfig ?? { epochs: 3, seed: 7 },
    metrics: { epoch: 2, valTop1: 0.41, valTop5: 0.93, test: { top1: 0.38, top5: 0.9, macroF1: 0.35 } },
  });
  model.dispose();
  if (options.withAssets !== false) {
    await writeFile(
      path.join(dir, 'curves.svg'),
      '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><polyline points="0,90 100,40 200,20" fill="none" stroke="#c2410c" stroke-width="3"/></svg>\n',
    );
  }
  return { dir, cleanup: () => rm(root, { recursive: true, force: true }) };
}
