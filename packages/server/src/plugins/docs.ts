import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * OpenAPI 3 document generated from the route schemas, at `/docs/json`, and Swagger UI at `/docs`,
 * served from the swagger-ui-dist package (no CDN; works offline). Must be registered before the routes.
 */
async function docsPlugin(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Food classifier API',
        description:
          'Classifies food photos with a ResNet-50 fine-tuned on Food-101 classes. Every error body is `{ "error": { "code", "message" } }`.',
        version: '0.1.0',
      },
      tags: [
        { name: 'classifier', description: 'Predictions and the model card' },
        { name: 'operations', description: 'Health, readiness, metrics' },
      ],
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: true, validatorUrl: null },
    staticCSP: true,
  });
}

export default fp(docsPlugin, { name: 'docs', fastify: '5.x' });
