// Shared with the bench's tests, which may not reach into the trainer's.
export { tensorflowSkipReason, titleFor } from '@food/core/testing/tensorflow-backend';
