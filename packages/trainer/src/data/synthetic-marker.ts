import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * `DATA/synthetic.json`, written by `trainer synth` beside images/ and meta/ (the official layout is
 * left as it is): prepare records it in the manifest and train in run-config.json, so a model trained
 * on generated pictures gets the model card's "not a food model" warning, as the demo's does.
 */
export const SYNTHETIC_MARKER = 'synthetic.json';

export async function writeSyntheticMarker(
  dataRoot: string,
  recipe: { seed: number; classes: number; imagesPerClass: number },
): Promise<void> {
  const marker = { generator: 'pnpm trainer synth', ...recipe };
  await writeFile(path.join(dataRoot, SYNTHETIC_MARKER), `${JSON.stringify(marker, null, 2)}\n`);
}

export async function isSyntheticDataRoot(dataRoot: string): Promise<boolean> {
  return (await stat(path.join(dataRoot, SYNTHETIC_MARKER)).catch(() => undefined))?.isFile() ?? false;
}
