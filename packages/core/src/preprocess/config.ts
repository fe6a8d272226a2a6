/**
 * Preprocessing is data: the trainer computes it, saves it beside every checkpoint, and evaluation
 * and serving read it back. One function (`preprocessImage` in ./image.ts) applies it everywhere.
 */
export type Interpolation = 'nearest' | 'bilinear' | 'bicubic' | 'lanczos3';

export interface PreprocessConfig {
  version: 1;
  /** Shorter side after the aspect-preserving resize (the recipe: 256). */
  resizeShorterSide: number;
  /** Side of the square centre crop fed to the model (the recipe: 224). */
  cropSize: number;
  interpolation: Interpolation;
  /** Per-channel mean of pixels scaled to 0..1, in `channelOrder`. */
  mean: [number, number, number];
  /** Per-channel standard deviation of pixels scaled to 0..1, in `channelOrder`. */
  std: [number, number, number];
  channelOrder: 'RGB';
  /** Where mean/std came from, e.g. "stats over 3375 training images of data/prepared/food10". */
  statsSource?: string;
}

/** Default geometry; mean/std are ImageNet's until `trainer stats` computes the data set's own. */
export const DEFAULT_PREPROCESS: PreprocessConfig = {
  version: 1,
  resizeShorterSide: 256,
  cropSize: 224,
  interpolation: 'bilinear',
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  channelOrder: 'RGB',
};

/**
 * `config` for another crop size (`--image-size`), keeping its resize-to-crop ratio (the recipe's
 * 256:224, as torchvision's references scale resize with crop).
 */
export function withCropSize(config: PreprocessConfig, cropSize: number): PreprocessConfig {
  if (cropSize === config.cropSize) return config;
  return {
    ...config,
    cropSize,
    resizeShorterSide: Math.round((cropSize * config.resizeShorterSide) / config.cropSize),
  };
}

export class PreprocessConfigError extends Error {
  override name = 'PreprocessConfigError';
}

/** Validates an untrusted object (a parsed preprocess.json) and returns it typed. */
export function parsePreprocessConfig(value: unknown, source = 'preprocess.json'): PreprocessConfig {
  const fail = (why: string): never => {
    throw new PreprocessConfigError(
      `${source}: ${why}. Recompute it with \`pnpm trainer stats --prepared DIR\` or restore the file from the checkpoint.`,
    );
  };
  if (typeof value !== 'object' || value === null) fail('not a JSON object');
  const config = value as Record<string, unknown>;
  if (config.version !== 1) fail(`unsupported version ${String(config.version)} (expected 1)`);
  for (const key of ['resizeShorterSide', 'cropSize'] as const) {
    const size = config[key];
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1)
      fail(`${key} must be a positive integer`);
  }
  if ((config.cropSize as number) > (config.resizeShorterSide as number)) {
    fail('cropSize must not exceed resizeShorterSide');
  }
  if (!['nearest', 'bilinear', 'bicubic', 'lanczos3'].includes(config.interpolation as string)) {
    fail(`unknown interpolation ${String(config.interpolation)}`);
  }
  for (const key of ['mean', 'std'] as const) {
    const triple = config[key];
    if (!Array.isArray(triple) || triple.length !== 3 || !triple.every((v) => Number.isFinite(v))) {
      fail(`${key} must be three finite numbers`);
    }
  }
  if (!(config.std as number[]).every((v) => v > 0)) fail('std must be positive');
  if (config.channelOrder !== 'RGB') fail(`unsupported channelOrder ${String(config.channelOrder)}`);
  return config as unknown as PreprocessConfig;
}
