import type { FastifyInstance } from 'fastify';
import { MethodNotAllowedError, RouteNotFoundError } from './errors.ts';

/**
 * A request no route takes is answered as soon as its headers are in: 405 with the methods the path
 * does take in `Allow` when the path exists (TRACE, QUERY, DELETE /api/health, GET /api/predict;
 * RFC 9110 §15.5.6), else 404. In an onRequest hook because Fastify reads the body of an unmatched
 * request before its not-found handler runs, and answered a QUERY without Content-Type there with 400.
 */
export function answerUnmatchedRequests(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!request.is404) return;
    const path = request.url.split('?')[0];
    const allowed = allowedMethods(app, request.url);
    if (allowed.length === 0) throw new RouteNotFoundError(request.method, path);
    void reply.header('allow', allowed.join(', '));
    throw new MethodNotAllowedError(request.method, path, allowed.join(', '));
  });
}

/** The methods the route table takes at `url` (a request URL: its query string is ignored). */
function allowedMethods(app: FastifyInstance, url: string): string[] {
  return app.supportedMethods.filter((method) => app.findRoute({ method, url }) !== null);
}
