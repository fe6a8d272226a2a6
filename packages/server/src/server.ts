import { UserError } from '@food/core/errors';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import type { ServerConfig } from './config.ts';

/** How long a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 15_000;

export interface RunningServer {
  app: FastifyInstance;
  /** `http://HOST:PORT` as bound (port 0 resolved). */
  url: string;
  /** Stops accepting connections, answers late requests 503, lets in-flight ones finish, frees the workers. */
  close(): Promise<void>;
}

/**
 * Builds the app, listens, and waits until the model is loaded and warm. Health answers while it
 * loads; a model that cannot load (corrupt weights, wrong topology) closes the server and throws.
 */
export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const app = await buildApp({
    ...config,
    logger: { level: config.logLevel },
  });
  let url: string;
  try {
    url = await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await app.close();
    const { code } = error as NodeJS.ErrnoException;
    if (code === 'EADDRINUSE') {
      throw new UserError(
        `Port ${config.port} on ${config.host} is already in use. Stop the other server or pick another port with --port (or PORT=...).`,
        'PORT_IN_USE',
      );
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new UserError(
        `Cannot listen on host "${config.host}": ${code}. Use --host 127.0.0.1 or 0.0.0.0.`,
        code,
      );
    }
    throw error;
  }
  try {
    await app.classifier.ready;
  } catch (error) {
    await app.close();
    throw error;
  }
  app.log.info(
    { url, workers: config.workers, maxBatch: config.maxBatch },
    `ready: open ${url} in a browser`,
  );
  return { app, url, close: () => app.close() };
}

/** SIGTERM / SIGINT: drain and exit 0; a second signal, or a drain that takes too long, exits at once. */
export function closeOnSignals(server: RunningServer): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      server.app.log.warn(`${signal} again: exiting without waiting for in-flight requests`);
      process.exit(1);
    }
    closing = true;
    server.app.log.info(`${signal}: finishing in-flight requests, then exiting`);
    const timer = setTimeout(() => {
      server.app.log.error(`shutdown took longer than ${SHUTDOWN_TIMEOUT_MS} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    server.close().then(
      () => {
        clearTimeout(timer);
        process.exitCode = 0;
      },
      (error: unknown) => {
        server.app.log.error({ err: error }, 'error while shutting down');
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
