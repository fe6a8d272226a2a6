import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_WEIGHTS } from '../commands/train.ts';
import { PREPARED_FILES, preparedPaths } from '../data/prepared-set.ts';
import { MANIFEST_FILE as WEIGHTS_MANIFEST } from '../weights/write-manifest.ts';
import type { CheckResult } from './check-result.ts';

export function checkWeights(folder = DEFAULT_WEIGHTS): CheckResult {
  if (existsSync(path.join(folder, WEIGHTS_MANIFEST))) {
    return { name: 'imagenet-weights', status: 'pass', detail: `imported in ${folder}` };
  }
  return {
    name: 'imagenet-weights',
    status: 'warn',
    detail: `${folder}/${WEIGHTS_MANIFEST} not found: \`pnpm train\` would fail unless given --weights none`,
    fix: 'Run `pnpm trainer import-weights` (downloads the Keras ResNet-50 weights, md5-verified; --from FILE for a local copy)',
  };
}

/** A prepared set: `--prepared DIR`, or any folder under data/prepared with a manifest. */
export function checkPreparedData(prepared: string | undefined, root = 'data/prepared'): CheckResult {
  const name = 'prepared-data';
  const candidates = prepared
    ? [prepared]
    : existsSync(root)
      ? readdirSync(root).map((entry) => path.join(root, entry))
      : [];
  const withManifest = candidates.filter((dir) => existsSync(preparedPaths(dir).manifest));
  const ready = withManifest.filter((dir) => existsSync(preparedPaths(dir).preprocess));
  if (ready.length > 0) return { name, status: 'pass', detail: `ready: ${ready.join(', ')}` };
  if (withManifest.length > 0) {
    return {
      name,
      status: 'warn',
      detail: `${withManifest.join(', ')}: prepared, but without preprocess.json (mean/std)`,
      fix: `Run \`pnpm trainer stats --prepared ${withManifest[0]}\``,
    };
  }
  return {
    name,
    status: 'warn',
    detail: prepared
      ? `${prepared} holds no ${PREPARED_FILES.manifest}`
      : `no prepared data set under ${root}`,
    fix: 'Run `pnpm trainer download --out data`, `pnpm trainer prepare --data data/food-101 --out data/prepared/seed50 --preset seed50` and `pnpm trainer stats --prepared data/prepared/seed50` (README, Train on a GPU box)',
  };
}
