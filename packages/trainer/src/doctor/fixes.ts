/** Fixes that several checks point at. */
export const TRAIN_IMAGE =
  'or use the training image, which has all of it: docker/train.Dockerfile (docker/README.md)';

export const SETUP_GPU =
  'Run `pnpm setup:tensorflow --gpu` (TensorFlow and the CUDA 12 libraries it pins, from PyPI; the host needs only the NVIDIA driver)';

export const GET_BINDING =
  'Run `pnpm setup:tensorflow` (CPU) or `pnpm setup:tensorflow --gpu` (CUDA): libtensorflow from the PyPI wheel, ' +
  TRAIN_IMAGE;
