import { multipartBody } from '@food/core/testing/multipart-body';
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

/**
 * `POST /api/predict{query}` with `image` in the multipart field "image" (what the web UI and
 * `curl -F image=@photo.jpg` send), followed by `fields`, through inject().
 */
export function injectMultipartImage(
  app: FastifyInstance,
  image: Uint8Array,
  {
    filename = 'photo.png',
    contentType,
    query = '',
    fields = [],
  }: {
    filename?: string;
    contentType?: string;
    query?: string;
    fields?: Array<{ name: string; value: string }>;
  } = {},
) {
  const { payload, headers } = multipartBody([
    { name: 'image', value: image, filename, contentType },
    ...fields,
  ]);
  return app.inject({ method: 'POST', url: `/api/predict${query}`, payload, headers });
}
