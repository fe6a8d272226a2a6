import { multipartBody } from '@food/core/testing/multipart-body';
import { makePng } from '@food/core/testing/synthetic-images';
import type { InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  conformanceProblems,
  mediaTypeMatches,
  type OpenApiDocument,
} from './helpers/openapi-conformance.ts';
import { useTinyApp } from './helpers/tiny-server.ts';

/**
 * The API against its own document: every route's real answers to valid and invalid requests have a
 * documented status, a documented content type and a body that validates against the documented schema.
 */

let document: OpenApiDocument;

const MAX_UPLOAD_BYTES = 64 * 1024;

const tiny = useTinyApp({ workers: 0, maxUploadBytes: MAX_UPLOAD_BYTES });

beforeAll(async () => {
  document = (await tiny.app.inject('/docs/json')).json();
});

const PNG = makePng(48, 40);

function upload(
  parts: Parameters<typeof multipartBody>[0],
  query = '',
): InjectOptions & { method: 'POST'; url: string } {
  return { method: 'POST', url: `/api/predict${query}`, ...multipartBody(parts) };
}

const image = { name: 'image', value: PNG, filename: 'photo.png', contentType: 'image/png' };
const raw = (payload: Buffer | string, contentType: string) =>
  ({ method: 'POST', url: '/api/predict', payload, headers: { 'content-type': contentType } }) as const;

/** [what, the document's path, the request, the status it must get]. */
const CASES: Array<[string, string, InjectOptions & { method: string; url: string }, number]> = [
  ['liveness', '/api/health', { method: 'GET', url: '/api/health' }, 200],
  ['liveness, unknown query parameter', '/api/health', { method: 'GET', url: '/api/health?x=1' }, 200],
  ['readiness', '/api/ready', { method: 'GET', url: '/api/ready' }, 200],
  ['model card', '/api/model', { method: 'GET', url: '/api/model' }, 200],
  ['statistics', '/api/stats', { method: 'GET', url: '/api/stats' }, 200],
  ['metrics', '/metrics', { method: 'GET', url: '/metrics' }, 200],
  ['a picture', '/api/model/assets/{name}', { method: 'GET', url: '/api/model/assets/curves.svg' }, 200],
  [
    'a picture it lacks',
    '/api/model/assets/{name}',
    { method: 'GET', url: '/api/model/assets/confusion.svg' },
    404,
  ],
  ['not a picture', '/api/model/assets/{name}', { method: 'GET', url: '/api/model/assets/model.json' }, 404],
  ['multipart upload', '/api/predict', upload([image]), 200],
  ['multipart upload, topK field', '/api/predict', upload([image, { name: 'topK', value: '2' }]), 200],
  ['multipart upload, topK query', '/api/predict', upload([image], '?topK=1000'), 200],
  ['raw body', '/api/predict', raw(PNG, 'image/png'), 200],
  ['topK 0', '/api/predict', upload([image], '?topK=0'), 400],
  ['topK field x', '/api/predict', upload([image, { name: 'topK', value: 'x' }]), 400],
  ['extra field', '/api/predict', upload([image, { name: 'caption', value: 'lunch' }]), 400],
  ['file in another field', '/api/predict', upload([{ ...image, name: 'photo' }]), 400],
  ['two files', '/api/predict', upload([image, image]), 400],
  ['no body', '/api/predict', { method: 'POST', url: '/api/predict' }, 400],
  ['broken multipart', '/api/predict', raw('--x\r\nnope', 'multipart/form-data; boundary=y'), 400],
  ['JSON body', '/api/predict', raw('{"image":"x"}', 'application/json'), 415],
  ['text body', '/api/predict', raw('photo', 'text/plain'), 415],
  [
    'upload over the limit',
    '/api/predict',
    upload([{ ...image, value: Buffer.alloc(MAX_UPLOAD_BYTES + 1) }]),
    413,
  ],
  ['raw body over the limit', '/api/predict', raw(Buffer.alloc(MAX_UPLOAD_BYTES + 1), 'image/png'), 413],
  ['corrupt image', '/api/predict', raw(PNG.subarray(0, 60), 'image/png'), 422],
];

describe('the OpenAPI document at /docs/json', () => {
  it.each(CASES)('%s: %s answers as documented', async (_what, pathTemplate, request, status) => {
    const response = await tiny.app.inject(request);
    expect({
      status: response.statusCode,
      problems: conformanceProblems(document, request.method, pathTemplate, response),
    }).toEqual({
      status,
      problems: [],
    });
  });

  it('every documented operation is among the cases above', () => {
    const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const covered = new Set(CASES.map(([, path, request]) => `${request.method} ${path}`));
    expect(documented.filter((operation) => !covered.has(operation))).toEqual([]);
  });

  it('every documented status of an operation is answered by some case, 503 aside', async () => {
    // 503 (loading, busy, shutting down) needs a server in that state: test/app.test.ts and reliability/.
    const answered = new Set<string>();
    for (const [, path, request] of CASES) {
      answered.add(`${request.method} ${path} ${(await tiny.app.inject(request)).statusCode}`);
    }
    const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations).flatMap(([method, { responses }]) =>
        Object.keys(responses)
          .filter((status) => status !== '503')
          .map((status) => `${method.toUpperCase()} ${path} ${status}`),
      ),
    );
    expect(documented.filter((entry) => !answered.has(entry))).toEqual([]);
  });
});

describe('POST /api/predict in the document', () => {
  it('documents the upload the server takes: image and topK only, topK from 1, the size limit', async () => {
    const body = (document.paths['/api/predict'].post as unknown as PredictOperation).requestBody.content;
    const form = body['multipart/form-data'].schema;
    expect(form).toMatchObject({
      required: ['image'],
      additionalProperties: false,
      properties: { image: { maxLength: MAX_UPLOAD_BYTES }, topK: { type: 'integer', minimum: 1 } },
    });
    expect(Object.keys(form.properties)).toEqual(['image', 'topK']);
    expect(form.properties.image.description).toContain('at most 64 KiB');
    expect(body['image/*'].schema).toMatchObject({ format: 'binary', maxLength: MAX_UPLOAD_BYTES });
  });

  it('refuses a field it does not document with 400 FIELD_UNEXPECTED, naming the field', async () => {
    const response = await tiny.app.inject(upload([image, { name: 'caption', value: 'lunch' }]));
    expect({ status: response.statusCode, body: response.json() }).toEqual({
      status: 400,
      body: {
        error: {
          code: 'FIELD_UNEXPECTED',
          message:
            'The multipart field "caption" is not accepted: send the photo as "image" and optionally "topK", nothing else.',
        },
      },
    });
  });
});

interface PredictOperation {
  requestBody: {
    content: Record<
      string,
      { schema: { properties: Record<string, { description?: string }> } & Record<string, unknown> }
    >;
  };
}

describe('conformanceProblems', () => {
  const doc: OpenApiDocument = {
    paths: {
      '/x': {
        get: {
          responses: {
            200: {
              content: {
                'application/json': {
                  schema: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } },
                },
              },
            },
            404: { content: { 'application/json': { schema: { $ref: '#/components/schemas/E' } } } },
          },
        },
      },
    },
    components: { schemas: { E: { type: 'object', required: ['error'] } } },
  };
  const json = (statusCode: number, body: unknown) => ({
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  });

  it('finds an undocumented status, content type, or a body off its schema', () => {
    expect(conformanceProblems(doc, 'GET', '/x', json(200, { n: 1 }))).toEqual([]);
    expect(conformanceProblems(doc, 'GET', '/x', json(404, { error: {} }))).toEqual([]);
    expect(conformanceProblems(doc, 'GET', '/x', json(500, {}))).toEqual([
      'status 500 is not documented (200, 404)',
    ]);
    expect(conformanceProblems(doc, 'GET', '/x', json(200, { n: 'one' }))).toEqual([
      'body/n must be integer',
    ]);
    expect(conformanceProblems(doc, 'GET', '/x', json(404, {}))).toEqual([
      "body must have required property 'error'",
    ]);
    expect(
      conformanceProblems(doc, 'GET', '/x', {
        statusCode: 200,
        headers: { 'content-type': 'text/plain' },
        body: 'n 1',
      }),
    ).toEqual(['content type "text/plain" is not documented (application/json)']);
    expect(conformanceProblems(doc, 'POST', '/x', json(200, { n: 1 }))).toEqual([
      'POST /x is not in the document',
    ]);
  });

  it('matches media types by type, subtype and the documented parameters', () => {
    expect(mediaTypeMatches('text/plain; version=0.0.4', 'text/plain; version=0.0.4; charset=utf-8')).toBe(
      true,
    );
    expect(mediaTypeMatches('text/plain; version=0.0.4', 'text/plain; charset=utf-8')).toBe(false);
    expect(mediaTypeMatches('image/*', 'image/png')).toBe(true);
    expect(mediaTypeMatches('application/json', 'application/json; charset=utf-8')).toBe(true);
    expect(mediaTypeMatches('application/json', 'text/plain; charset=utf-8')).toBe(false);
  });
});
