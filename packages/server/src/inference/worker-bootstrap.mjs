// Worker threads do not inherit tsx's loader from the main thread, so each worker registers it
// before importing the TypeScript entry point. Resolved from this file, not from the working directory.
import { register } from 'tsx/esm/api';

register();
await import('./inference-worker.ts');
