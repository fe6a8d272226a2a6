import { createTinyCheckpoint } from '@food/core/testing/tiny-checkpoint';
import { afterAll, beforeAll } from 'vitest';
import { DEFAULTS } from '../../src/config.ts';
import { type RunningServer, startServer } from '../../src/server.ts';

/**
 * `pnpm serve` on a tiny checkpoint for the tests of one file: started before them on a free port, on
 * the cpu backend, logging nothing, with `overrides`; closed and its checkpoint removed after them.
 */
type StartConfig = Parameters<typeof startServer>[0];

export function useTinyServer(
  overrides: Partial<StartConfig>,
  timeoutMs = 60_000,
): { server: RunningServer } {
  const running = {} as { server: RunningServer };
  let cleanup: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const checkpoint = await createTinyCheckpoint({ withAssets: false });
    cleanup = checkpoint.cleanup;
    const config: StartConfig = {
      ...DEFAULTS,
      checkpoint: checkpoint.dir,
      port: 0,
      backend: 'cpu',
      logLevel: 'silent',
    };
    running.server = await startServer({ ...config, ...overrides });
  }, timeoutMs);
  afterAll(async () => {
    await running.server?.close();
    await cleanup?.();
  });
  return running;
}
