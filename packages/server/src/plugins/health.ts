import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ModelLoadingError, ShuttingDownError } from '../errors.ts';
import type { Classifier } from '../inference/classifier.ts';

export interface HealthPluginOptions {
  classifier: Classifier;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Starts answering new requests (and /api/ready) with 503 SHUTTING_DOWN; in-flight ones finish. */
    startDraining(): void;
  }
}

const statusSchema = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string' }, uptimeSeconds: { type: 'number' } },
} as const;

/**
 * Liveness (`/api/health`: the process answers) and readiness (`/api/ready`: the model is loaded and
 * warmed up), plus load shedding while shutting down: once draining starts, every new request gets
 * 503 SHUTTING_DOWN (readiness included, so a load balancer stops routing here) while in-flight ones finish.
 */
async function healthPlugin(app: FastifyInstance, { classifier }: HealthPluginOptions): Promise<void> {
  let closing = false;
  app.decorate('startDraining', () => {
    closing = true;
  });
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (request) => {
    if (!closing) return;
    // Read and drop the upload first: a socket closed with unread bytes is reset, and the client would
    // see ECONNRESET instead of this 503.
    await discardBody(request.raw);
    throw new ShuttingDownError();
  });
  // While draining every response, 503s included, tells a keep-alive client to close its connection,
  // so none is left idle for the listener's close to reset (see close-gracefully.ts).
  app.addHook('onSend', async (_request, reply) => {
    if (closing) void reply.header('connection', 'close');
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

async function discardBody(body: Readable): Promise<void> {
  if (body.readableEnded) return;
  body.resume();
  await finished(body).catch(() => {}); // the client went away: nothing left to read
}

export default fp(healthPlugin, { name: 'health', fastify: '5.x' });
