import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));

/** Everything the page loads comes from this server, so the policy can be strict. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' blob: data:",
  "style-src 'self'",
  // WebAssembly for classifying on the device (onnxruntime-web); no eval of JavaScript.
  "script-src 'self' 'wasm-unsafe-eval'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The web UI: static files from packages/server/public, no build step. */
async function uiPlugin(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    // Routes for the files present at start only; anything else reaches the JSON 404 handler.
    wildcard: false,
    cacheControl: true,
    maxAge: 0,
    setHeaders(reply) {
      void reply
        .header('content-security-policy', CONTENT_SECURITY_POLICY)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        // Cross-origin isolation gives the page SharedArrayBuffer, so onnxruntime-web can use threads
        // when classifying on the device; everything the page loads is from this origin anyway.
        .header('cross-origin-opener-policy', 'same-origin')
        .header('cross-origin-embedder-policy', 'require-corp');
    },
  });
}

export default fp(uiPlugin, { name: 'ui', fastify: '5.x' });
