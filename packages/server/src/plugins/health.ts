import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ModelLoadingError, ShuttingDownError } from '../errors.ts';
import type { Classifier } from '../inference/classifier.ts';

export interface HealthPluginOptions {
  classifier: Classifier;
}

const statusSchema = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string' }, uptimeSeconds: { type: 'number' } },
} as const;

/**
 * Liveness (`/api/health`: the process answers) and readiness (`/api/ready`: the model is loaded and
 * warmed up, and the server is not draining), plus load shedding while shutting down: once `close()`
 * starts, requests still arriving on open connections get 503 SHUTTING_DOWN while in-flight ones finish.
 */
async function healthPlugin(app: FastifyInstance, { classifier }: HealthPluginOptions): Promise<void> {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    void reply.header('connection', 'close');
    throw new ShuttingDownError();
  });

  app.get(
    '/api/health',
    {
      schema: {
        summary: 'Liveness: the process answers',
        tags: ['operations'],
        response: { 200: statusSchema },
      },
    },
    async () => ({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) }),
  );

  app.get(
    '/api/ready',
    {
      schema: {
        summary: 'Readiness: 200 once the model is loaded and warmed up, 503 before (and while draining)',
        tags: ['operations'],
        response: { 200: statusSchema, 503: { $ref: 'ErrorBody#' } },
      },
    },
    async () => {
      if (!classifier.isReady()) throw new ModelLoadingError();
      return { status: 'ready' };
    },
  );
}

export default fp(healthPlugin, { name: 'health', fastify: '5.x' });
