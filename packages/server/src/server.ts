import { UserError } from '@food/core/errors';
import type { FastifyInstance } from 'fastify';
import { type AppOptions, buildApp } from './app.ts';
import { closeGracefully } from './close-gracefully.ts';
import type { ServerConfig } from './config.ts';
import { loggerOptions, READY_EVENT } from './logger.ts';

/** How long in-flight requests may take to finish before the process exits anyway. */
export const SHUTDOWN_TIMEOUT_MS = 15_000;

export interface RunningServer {
  app: FastifyInstance;
  /** `http://HOST:PORT` as bound (port 0 resolved). */
  url: string;
  /**
   * Answers new requests 503 for `drainDelayMs`, then stops listening; in-flight requests finish, then
   * the workers stop.
   */
  close(): Promise<void>;
}

/**
 * Builds the app, listens, and waits until the model is loaded and warm. Health answers while it
 * loads; a model that cannot load (corrupt weights, wrong topology) closes the server and throws.
 */
export async function startServer(
  config: ServerConfig & Pick<AppOptions, 'requestTimeoutMs'>,
): Promise<RunningServer> {
  const app = await buildApp({
    ...config,
    logger: loggerOptions({ level: config.logLevel, format: config.logFormat ?? 'auto' }),
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
  const { engine } = app.classifier.info;
  app.log.info(
    {
      event: READY_EVENT,
      url,
      workers: config.workers,
      maxBatch: config.maxBatch,
      engine: engine.name,
      model: engine.file,
    },
    `ready: open ${url} in a browser (engine ${engine.name}, ${engine.file})`,
  );
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= closeGracefully(app, config.drainDelayMs);
    return closing;
  };
  return { app, url, close };
}

/** SIGTERM / SIGINT: drain and exit 0; a second signal, or a drain that takes too long, exits at once. */
export function closeOnSignals(server: RunningServer, drainDelayMs = 0): void {
  const timeoutMs = drainDelayMs + SHUTDOWN_TIMEOUT_MS;
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      server.app.log.warn(`${signal} again: exiting without waiting for in-flight requests`);
      process.exit(1);
    }
    closing = true;
    server.app.log.info(`${signal}: finishing in-flight requests, then exiting`);
    const timer = setTimeout(() => {
      server.app.log.error(`shutdown took longer than ${timeoutMs} ms; exiting`);
      process.exit(1);
    }, timeoutMs);
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
