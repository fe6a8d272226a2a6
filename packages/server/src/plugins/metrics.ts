import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Classifier } from '../inference/classifier.ts';
import type { TransportErrors } from '../transport-errors.ts';

export interface MetricsPluginOptions {
  classifier: Classifier;
  /** Answers given below the routes (bad request lines, 431, 408, undecodable URLs), counted too. */
  transportErrors?: TransportErrors;
}

/**
 * Prometheus metrics at `GET /metrics`, in a registry of this app's own (tests build many apps per
 * process; the global registry would count them all together).
 */
async function metricsPlugin(
  app: FastifyInstance,
  { classifier, transportErrors }: MetricsPluginOptions,
): Promise<void> {
  const register = new Registry();
  collectDefaultMetrics({ register });
  const { requests, duration } = httpMetrics(register);
  inferenceMetrics(register, classifier);

  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the URL: bounded label values whatever clients request.
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  transportErrors?.onAnswer(({ method, route, status }) => {
    requests.inc({ method, route, status: String(status) });
  });

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics (text exposition format)',
        tags: ['operations'],
        response: {
          200: {
            description: 'Every metric, in the text exposition format',
            content: { [register.contentType]: { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (_request, reply) => {
      void reply.type(register.contentType);
      return register.metrics();
    },
  );
}

/** Requests by method, route and status, and how long each took. */
function httpMetrics(register: Registry) {
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route and status code',
    labelNames: ['method', 'route', 'status'],
    registers: [register],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request received to response sent',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [register],
  });
  return { requests, duration };
}

/** Batch sizes and times, queue depth and tensors per inference thread. */
function inferenceMetrics(register: Registry, classifier: Classifier): void {
  const batchSize = new Histogram({
    name: 'inference_batch_size',
    help: 'Images per model forward pass',
    buckets: [1, 2, 3, 4, 6, 8, 12, 16, 24, 32],
    registers: [register],
  });
  const batchDuration = new Histogram({
    name: 'inference_batch_duration_seconds',
    help: 'Time a batch spent on the executor (worker or main thread)',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [register],
  });
  new Gauge({
    name: 'inference_queue_depth',
    help: 'Images waiting for a batch slot',
    registers: [register],
    collect() {
      this.set(classifier.batcher.queued);
    },
  });
  new Gauge({
    name: 'inference_worker_tensors',
    help: 'tf.memory().numTensors per inference thread (grows only if tensors leak)',
    labelNames: ['slot'],
    registers: [register],
    async collect() {
      for (const slot of await classifier.executor.stats()) this.set({ slot: slot.id }, slot.numTensors);
    },
  });

  classifier.batcher.onBatch(({ size, durationMs }) => {
    batchSize.observe(size);
    batchDuration.observe(durationMs / 1000);
  });
}

export default fp(metricsPlugin, { name: 'metrics', fastify: '5.x' });
