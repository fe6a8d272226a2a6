import type { ResolvedRunConfig } from '@food/core/checkpoint/run-config';

/**
 * Every setting of a training run, defaults filled in: the checkpoint contract's run config, whose
 * table of settings is core/checkpoint/run-settings.ts. Make one with `resolveRunConfig`.
 */
export type TrainConfig = ResolvedRunConfig;
