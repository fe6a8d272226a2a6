import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { DEFAULTS, type ServerConfig } from './config.ts';
import { errorBodySchema, installErrorHandlers } from './errors.ts';
import { Classifier } from './inference/classifier.ts';
import classifierPlugin from './plugins/classifier.ts';
import docsPlugin from './plugins/docs.ts';
import healthPlugin from './plugins/health.ts';
import metricsPlugin from './plugins/metrics.ts';
import uiPlugin from './plugins/ui.ts';

export type AppOptions = Partial<Omit<ServerConfig, 'host' | 'port' | 'logLevel' | 'drainDelayMs'>> & {
  checkpoint: string;
  /** Fastify's logger option (pino); false in tests. */
  logger?: FastifyServerOptions['logger'];
};

/**
 * The app factory: everything but listening, so tests drive it with `app.inject()`. Throws
 * CheckpointError at once when the checkpoint folder is missing or corrupt; the model itself loads in
 * the background (`app.classifier.ready`), and `/api/ready` answers 503 until it has.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const config = { ...DEFAULTS, ...withoutUndefined(options), checkpoint: options.checkpoint };
  const app = Fastify({
    logger: options.logger ?? false,
    // Honour a caller's request id (a proxy's), else make one; it is in every log line and echoed back.
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    bodyLimit: config.maxUploadBytes,
    // health.ts answers requests that arrive while draining, in the API's error format.
    return503OnClosing: false,
  });
  const classifier = await Classifier.open({ ...config, log: (line) => app.log.info(line) });
  try {
    installErrorHandlers(app, config);
    app.addSchema(errorBodySchema);
    app.addHook('onSend', async (request, reply) => {
      void reply.header('x-request-id', request.id);
    });
    app.addHook('onClose', () => classifier.close());
    await app.register(docsPlugin);
    await app.register(metricsPlugin, { classifier });
    await app.register(healthPlugin, { classifier });
    await app.register(classifierPlugin, { classifier, maxUploadBytes: config.maxUploadBytes });
    await app.register(uiPlugin);
    await app.ready();
  } catch (error) {
    await classifier.close();
    throw error;
  }
  return app;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
