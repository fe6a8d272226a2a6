/**
 * What the web UI needs to classify on the user's device: the server's ONNX model at an immutable URL
 * (its sha256, from GET /api/model's browserModel), and onnxruntime-web's wasm build, served from this
 * server like the rest of the page (no CDN).
 */
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { BrowserModelNotFoundError } from '../errors.ts';
import { BROWSER_MODEL_ROUTE } from '../inference/browser-model.ts';
import type { Classifier } from '../inference/classifier.ts';

export const ORT_WEB_ROUTE = '/vendor/onnxruntime-web/';

/** The wasm build with SIMD (and threads where the page is cross-origin isolated): its loader, glue, binary. */
const ORT_WEB_FILES = new Set([
  'ort.wasm.min.mjs',
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
]);

// The package's Node entry sits in dist/, beside the browser builds.
const ORT_WEB_DIST = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));

async function browserModelPlugin(app: FastifyInstance, options: { classifier: Classifier }): Promise<void> {
  const { browserModel } = options.classifier;
  app.get<{ Params: { file: string } }>(
    `${BROWSER_MODEL_ROUTE}/:file`,
    {
      schema: {
        // Not in the OpenAPI document: like the page's own files, it is fetched by the web UI at the url
        // GET /api/model gives (browserModel.url), not called as an API.
        hide: true,
        params: { type: 'object', required: ['file'], properties: { file: { type: 'string' } } },
      },
    },
    async (request, reply) => {
      const current = browserModel?.info;
      if (!current || request.params.file !== `${current.sha256}.onnx`) {
        throw new BrowserModelNotFoundError(request.url);
      }
      const etag = `"${current.sha256}"`;
      void reply
        .header('etag', etag)
        .header('cache-control', 'public, max-age=31536000, immutable')
        .header('x-content-type-options', 'nosniff');
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply
        .type('application/octet-stream')
        .header('content-length', current.bytes)
        .send(createReadStream(browserModel.file));
    },
  );

  await app.register(fastifyStatic, {
    root: ORT_WEB_DIST,
    prefix: ORT_WEB_ROUTE,
    decorateReply: false,
    wildcard: false,
    allowedPath: (pathName) => ORT_WEB_FILES.has(path.basename(pathName)),
    // The version is pinned: revalidate by ETag, which the static plugin sends.
    cacheControl: true,
    maxAge: 0,
    setHeaders(reply) {
      // The glue also starts onnxruntime-web's worker threads, which in a cross-origin-isolated page
      // (ui.ts) must themselves be served with COEP.
      void reply
        .header('x-content-type-options', 'nosniff')
        .header('cross-origin-embedder-policy', 'require-corp')
        .header('cross-origin-resource-policy', 'same-origin');
    },
  });
}

export default fp(browserModelPlugin, { name: 'browser-model', fastify: '5.x' });
