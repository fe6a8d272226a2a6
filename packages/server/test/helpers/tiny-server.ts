import { createTinyCheckpoint, type TinyCheckpoint } from '@food/core/testing/tiny-checkpoint';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { type AppOptions, buildApp } from '../../src/app.ts';
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

/**
 * The app (buildApp, no listening server) on a tiny checkpoint for the tests of one file: built on the
 * cpu backend with `options` and ready before them; closed and its checkpoint removed after them.
 */
export function useTinyApp(
  options: Omit<AppOptions, 'checkpoint'>,
  timeoutMs?: number,
): { app: FastifyInstance; checkpoint: TinyCheckpoint } {
  const tiny = {} as { app: FastifyInstance; checkpoint: TinyCheckpoint };
  beforeAll(async () => {
    tiny.checkpoint = await createTinyCheckpoint();
    tiny.app = await buildApp({ checkpoint: tiny.checkpoint.dir, backend: 'cpu', ...options });
    await tiny.app.classifier.ready;
  }, timeoutMs);
  afterAll(async () => {
    await tiny.app?.close();
    await tiny.checkpoint?.cleanup();
  });
  return tiny;
}
