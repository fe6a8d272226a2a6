/** Fixes that several checks point at. */
export const TRAIN_IMAGE =
  'or use the training image, which has all of it: docker/train.Dockerfile (docker/README.md)';

export const GET_BINDING =
  'With access to storage.googleapis.com: `pnpm rebuild @tensorflow/tfjs-node-gpu` (honours HTTPS_PROXY; TFJS_NODE_CDN_STORAGE for a mirror); ' +
  'without it: `pnpm setup:tensorflow` (libtensorflow from the PyPI wheel); ' +
  TRAIN_IMAGE;
