import type { FastifyInstance } from 'fastify';

/** `POST /api/predict` with `image` as the raw request body, through inject(). */
export function injectImage(app: FastifyInstance, image: Buffer, contentType = 'image/png') {
  return app.inject({
    method: 'POST',
    url: '/api/predict',
    payload: image,
    headers: { 'content-type': contentType },
  });
}
