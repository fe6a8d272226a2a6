import { stat } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { UserError } from '@food/core/errors';
import { buildResNet50 } from '@food/core/model/resnet50';
import type { Command } from 'commander';
import { createByteProgress, NO_PROGRESS_HELP, progressMode } from '../progress.ts';
import { applyWeights } from '../weights/apply-weights.ts';
import {
  fetchWeightsFile,
  KERAS_RESNET50_NOTOP_MD5,
  KERAS_RESNET50_NOTOP_URL,
} from '../weights/fetch-weights.ts';
import { CAFFE_MEAN_BGR } from '../weights/fold-conv1.ts';
import { loadBackboneWeights } from '../weights/load-backbone.ts';
import { countElements, disposeWeights, type WeightMap } from '../weights/weight-map.ts';
import { MANIFEST_FILE, writeWeightsManifest } from '../weights/write-manifest.ts';

interface ImportFlags {
  from: string;
  out: string;
  cache: string;
  md5?: string;
  allowPartial: boolean;
  progress: boolean;
}

export function register(program: Command): void {
  program
    .command('import-weights')
    .description(
      'Import ImageNet ResNet-50 (Keras, v1, notop) weights from a URL, a Keras .h5 or a TF.js manifest, check ' +
        'them against the model and write a TF.js weights folder keyed by Keras layer names.',
    )
    .option(
      '--from <path|url>',
      'Keras .h5 file, TF.js manifest (file or folder), or http(s) URL',
      KERAS_RESNET50_NOTOP_URL,
    )
    .option(
      '--out <dir>',
      'output folder (weights_manifest.json + weights.bin)',
      'data/weights/resnet50-imagenet',
    )
    .option('--cache <dir>', 'where downloads are kept (and resumed)', 'data/weights/downloads')
    .option('--md5 <hex>', 'expected md5 of a downloaded file (known for the default URL)')
    .option(
      '--allow-partial',
      'load only the tensors that match and report coverage instead of failing',
      false,
    )
    .option('--no-progress', NO_PROGRESS_HELP)
    .addHelpText(
      'after',
      `
The weights are stored as published: they expect Keras "caffe" inputs (BGR, 0..255, minus the ImageNet
mean [${CAFFE_MEAN_BGR.join(', ')}]). Training folds the data set's mean/std (preprocess.json) into conv1_conv when it
starts, so one import serves every prepared data set. The ${'`predictions`'} head is never imported.

Examples:
  $ pnpm trainer import-weights
  $ pnpm trainer import-weights --from ../shared/weights/resnet50-imagenet
  $ pnpm trainer import-weights --from ~/Downloads/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5
  $ pnpm trainer import-weights --from other.h5 --allow-partial --out data/weights/partial`,
    )
    .action(async (flags: ImportFlags) => importWeights(flags));
}

async function importWeights(flags: ImportFlags): Promise<void> {
  const remote = /^https?:\/\//i.test(flags.from);
  if (!remote) await checkLocalSource(flags.from);
  await initBackend('auto', () => {});
  let source = flags.from;
  const provenance: Record<string, string> = { from: flags.from };
  if (remote) {
    const md5 = flags.md5 ?? (flags.from === KERAS_RESNET50_NOTOP_URL ? KERAS_RESNET50_NOTOP_MD5 : undefined);
    const progress = createByteProgress('weights', progressMode(flags.progress));
    const fetched = await fetchWeightsFile({
      url: flags.from,
      cacheDir: flags.cache,
      md5,
      onProgress: progress.report,
    });
    progress.stop();
    source = fetched.path;
    Object.assign(provenance, { file: fetched.path, md5: fetched.md5, sha256: fetched.sha256 });
  }
  const weights = await loadBackboneWeights(source);
  const model = buildResNet50({ numClasses: 1 });
  try {
    const coverage = applyWeights(model, weights, { allowPartial: flags.allowPartial });
    // In file order, so importing an already-imported folder reproduces its bytes.
    const loaded = new Set(coverage.loaded);
    const kept: WeightMap = new Map([...weights].filter(([name]) => loaded.has(name)));
    const parameters = [...kept.values()].reduce((n, t) => n + countElements(t.shape), 0);
    const info = {
      ...provenance,
      tensors: kept.size,
      parameters,
      coveragePercent: Number(coverage.percent.toFixed(3)),
      missing: coverage.missing,
      misshaped: coverage.misshaped.map((m) => m.name),
      ignored: coverage.unexpected,
      inputs: `caffe: BGR, 0..255, minus [${CAFFE_MEAN_BGR.join(', ')}], no std; fold conv1_conv at train start`,
    };
    await writeWeightsManifest(flags.out, kept, { 'import-info.json': JSON.stringify(info, null, 2) + '\n' });
    const partial = coverage.percent < 100;
    process.stdout.write(
      `wrote ${path.join(flags.out, MANIFEST_FILE)}: ${kept.size} tensors, ${parameters.toLocaleString('en-US')} ` +
        `parameters, ${coverage.percent.toFixed(1)}% of the ResNet-50 backbone` +
        (partial
          ? ` (missing ${coverage.missing.length}, mis-shaped ${coverage.misshaped.length}, ignored ${coverage.unexpected.length}; see import-info.json)`
          : '') +
        '\n',
    );
  } finally {
    model.dispose();
    disposeWeights(weights);
  }
}

/**
 * `--from` names what to import, so a missing path is a typo, not weights still to import (the message
 * loadBackboneWeights gives `train --weights`).
 */
async function checkLocalSource(from: string): Promise<void> {
  if (await stat(from).catch(() => undefined)) return;
  throw new UserError(
    `--from ${from}: no such file or folder. Pass a Keras .h5 file, a TF.js weights manifest (file or folder), ` +
      'or an http(s) URL; without --from the Keras ImageNet weights are downloaded.',
    'WEIGHTS_NOT_FOUND',
  );
}
