/**
 * What `pnpm gpu:check` runs: on a GPU, the recipe's network (full ResNet-50 at 224 px, batch 128 in the
 * micro-batches `--accumulate auto` plans) for 100 steps; without one, the same steps on the CPU at a size
 * that finishes in minutes on 2 cores, and the report says it was the fallback.
 */
export interface CheckPlan {
  mode: 'gpu' | 'cpu-fallback';
  backend: 'tensorflow' | 'auto';
  /** Optimizer steps in all; the run is saved at `saveAt`, killed after, and resumed to `steps`. */
  steps: number;
  saveAt: number;
  imageSize: number;
  width: number;
  blocks: [number, number, number, number];
  batchSize: number;
  /** Synthetic data: classes (Food-101 names) and images per class (75:25 train:test). */
  classes: number;
  imagesPerClass: number;
  /** Test images evaluated on both engines. */
  evalImages: number;
}

export type PlanOverrides = Partial<
  Pick<
    CheckPlan,
    'steps' | 'imageSize' | 'width' | 'blocks' | 'batchSize' | 'classes' | 'imagesPerClass' | 'evalImages'
  >
>;

/** 101 classes × 130 images: 9,850 for training, 77 steps of 128 per epoch, so 100 steps cross one epoch end. */
const GPU_PLAN: CheckPlan = {
  mode: 'gpu',
  backend: 'tensorflow',
  steps: 100,
  saveAt: 50,
  imageSize: 224,
  width: 1,
  blocks: [3, 4, 6, 3],
  batchSize: 128,
  classes: 101,
  imagesPerClass: 130,
  evalImages: 512,
};

/**
 * ResNet-50's depth at a quarter of its width and 96 px: a step of 32 images costs about 1/70 of the
 * recipe's, so 12 steps, the save, the kill, the resume and both evaluations fit in a few minutes on 2 cores.
 */
const CPU_PLAN: CheckPlan = {
  mode: 'cpu-fallback',
  backend: 'auto',
  steps: 12,
  saveAt: 6,
  imageSize: 96,
  width: 0.25,
  blocks: [3, 4, 6, 3],
  batchSize: 32,
  classes: 10,
  imagesPerClass: 40,
  evalImages: 64,
};

export function checkPlan(hasGpu: boolean, overrides: PlanOverrides = {}): CheckPlan {
  const plan = { ...(hasGpu ? GPU_PLAN : CPU_PLAN), ...overrides };
  plan.saveAt = Math.max(1, Math.floor(plan.steps / 2));
  return plan;
}
