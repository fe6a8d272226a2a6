// Worker threads do not inherit tsx's loader from the main thread, so each worker registers it
// before importing the TypeScript entry point (as the server's inference workers do).
import { register } from 'tsx/esm/api';

register();
await import('./decode-worker.ts');
