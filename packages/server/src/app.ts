import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import { DEFAULTS, type ServerConfig } from './config.ts';
import { errorBodySchema, installErrorHandlers } from './errors.ts';
import { Classifier } from './inference/classifier.ts';
import { logRequests } from './logger.ts';
import browserModelPlugin from './plugins/browser-model.ts';
import classifierPlugin from './plugins/classifier.ts';
import docsPlugin from './plugins/docs.ts';
import healthPlugin from './plugins/health.ts';
import metricsPlugin from './plugins/metrics.ts';
import uiPlugin from './plugins/ui.ts';
import { TransportErrors } from './transport-errors.ts';
import { answerUnmatchedRequests } from './unmatched-requests.ts';

export type AppOptions = Partial<
  Omit<ServerConfig, 'host' | 'port' | 'logLevel' | 'logFormat' | 'drainDelayMs'>
> & {
  checkpoint: string;
  /** Fastify's logger option (pino); false in tests. */
  logger?: FastifyServerOptions['logger'];
  /** Longest a request (headers and body) may take to arrive; see DEFAULT_REQUEST_TIMEOUT_MS. */
  requestTimeoutMs?: number;
};

/**
 * Longest a request may take to arrive. Fastify disables Node's request timeout (0), so a client that
 * sent headers and then trickled its body a byte a second (slow loris) held a socket and a multipart
 * parser forever. 60 s lets a 10 MiB photo arrive at ~170 KB/s; slower clients get 408 and the socket
 * is freed. Tested in test/reliability/bad-input.test.ts.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/**
 * The app factory: everything but listening, so tests drive it with `app.inject()`. Throws
 * CheckpointError at once when the checkpoint folder is missing or corrupt; the model itself loads in
 * the background (`app.classifier.ready`), and `/api/ready` answers 503 until it has.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const config = { ...DEFAULTS, ...withoutUndefined(options), checkpoint: options.checkpoint };
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const transportErrors = new TransportErrors();
  const app = Fastify({
    logger: options.logger ?? false,
    // One line per request at debug instead (logRequests). A LogController, not the top-level
    // disableRequestLogging, which Fastify 5.12 deprecates with a warning at every start (FSTDEP023).
    logController: new LogController({ disableRequestLogging: true }),
    // Honour a caller's request id (a proxy's), else make one; it is in every log line and echoed back.
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    bodyLimit: config.maxUploadBytes,
    requestTimeout,
    // Node checks request deadlines on this interval (default 30 s, which would let a 1 s timeout last 31 s).
    http: { connectionsCheckingInterval: Math.min(1000, requestTimeout) },
    // health.ts answers requests that arrive while draining, in the API's error format.
    return503OnClosing: false,
    clientErrorHandler: transportErrors.clientErrorHandler,
    frameworkErrors: transportErrors.frameworkErrors,
  });
  const classifier = await Classifier.open({ ...config, log: (line) => app.log.info(line) });
  try {
    installErrorHandlers(app, config);
    installBodyDeadline(app, requestTimeout, transportErrors);
    logRequests(app);
    answerUnmatchedRequests(app);
    app.addSchema(errorBodySchema);
    app.addHook('onSend', async (request, reply) => {
      void reply.header('x-request-id', request.id);
    });
    app.addHook('onClose', () => classifier.close());
    await app.register(docsPlugin);
    await app.register(metricsPlugin, { classifier, transportErrors });
    await app.register(healthPlugin, { classifier });
    await app.register(classifierPlugin, {
      classifier,
      maxUploadBytes: config.maxUploadBytes,
      maxPixels: config.maxPixels,
    });
    await app.register(browserModelPlugin, { classifier });
    await app.register(uiPlugin);
    await app.ready();
  } catch (error) {
    await classifier.close();
    throw error;
  }
  return app;
}

/**
 * Node 20 enforces `requestTimeout` only until the headers are in (checked: a body trickled after
 * complete headers is never timed out), so the body gets its own deadline: if it has not fully
 * arrived by then, answer 408 in the API's error format and close the connection.
 */
function installBodyDeadline(
  app: FastifyInstance,
  timeoutMs: number,
  transportErrors: TransportErrors,
): void {
  const body = JSON.stringify({
    error: {
      code: 'REQUEST_TIMEOUT',
      message: `The upload did not arrive within ${timeoutMs / 1000} s. Check the connection and retry, or send a smaller photo.`,
    },
  });
  app.addHook('onRequest', async (request, reply) => {
    // app.inject()'s fake requests have no `complete` flag and no socket to free.
    if (request.raw.complete !== false) return;
    const timer = setTimeout(() => {
      if (request.raw.complete) return;
      request.log.warn({ code: 'REQUEST_TIMEOUT' }, `request body not complete after ${timeoutMs} ms`);
      const socket = request.raw.socket;
      // Written to the socket, so Fastify's onResponse (and the metrics) never see it: report it.
      const route = request.routeOptions.url ?? 'unmatched';
      transportErrors.report({ method: request.method, route, status: 408, code: 'REQUEST_TIMEOUT' });
      if (socket.writable && !reply.raw.headersSent) {
        socket.write(
          `HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      }
      socket.destroy();
    }, timeoutMs);
    timer.unref();
    reply.raw.once('close', () => clearTimeout(timer));
  });
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
