/**
 * What a run trained, apart from where and with which seed: runs with the same recipe are the seeds of
 * one experiment (`pnpm runs`' seed table, `pnpm evaluate`'s check for a second read of test).
 */

/**
 * Run-config fields that say where or how a command ran, not what was trained: `out` always differs,
 * `resume`/`overwrite` say how the last command started, `featureCacheDir`, `keepEpochs` and
 * `loaderConcurrency` change where files go and how fast, never the model; `fusedKernels` changes how
 * fast a step runs, not what it computes (the parity tests hold the two paths within 1e-4).
 */
export const NOT_EXPERIMENT_SETTINGS: ReadonlySet<string> = new Set([
  'out',
  'resume',
  'overwrite',
  'featureCacheDir',
  'keepEpochs',
  'loaderConcurrency',
  'fusedKernels',
]);

/**
 * What an absent optional setting means (the defaults documented on RunConfig and applied by training):
 * a run written before the setting existed, or without its flag, trained with this value.
 */
export const ABSENT_MEANS: Readonly<Record<string, unknown>> = {
  lrSchedule: 'constant',
  warmupEpochs: 0,
  labelSmoothing: 0,
  featureViews: 0,
  deterministic: false,
};

/** A setting's value as the comparison of runs sees it: an absent one is its default. */
export function comparedValue(config: Readonly<Record<string, unknown>>, key: string): string | undefined {
  return JSON.stringify(config[key] ?? ABSENT_MEANS[key]);
}

/** The recipe of a run config: every experiment setting but the seed, in one comparable string. */
export function recipeKey(config: Readonly<Record<string, unknown>>): string {
  const keys = [...new Set([...Object.keys(config), ...Object.keys(ABSENT_MEANS)])]
    .filter((key) => key !== 'seed' && !NOT_EXPERIMENT_SETTINGS.has(key))
    .sort();
  return JSON.stringify(keys.map((key) => [key, comparedValue(config, key) ?? null]));
}
