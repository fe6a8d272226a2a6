import path from 'node:path';

/**
 * The real data that tests and benchmarks use where present: `shared/` beside the repository (read-only,
 * never copied in). Tests that need it skip when it is absent.
 */
const SHARED = path.resolve(import.meta.dirname, '../../../../../shared');

export const SHARED_DATA = {
  food10Images: path.join(SHARED, 'data/food10/images'),
  food101Meta: path.join(SHARED, 'data/food-101-meta'),
  resnet50Weights: path.join(SHARED, 'weights/resnet50-imagenet'),
} as const;
