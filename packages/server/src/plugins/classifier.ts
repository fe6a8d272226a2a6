import { readFile } from 'node:fs/promises';
import path from 'node:path';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  AssetNotFoundError,
  FieldUnexpectedError,
  ImageFieldError,
  ImageMissingError,
  MultipartMalformedError,
  MultipleImagesError,
  TopKError,
  UnsupportedMediaTypeError,
} from '../errors.ts';
import type { Classification, Classifier } from '../inference/classifier.ts';
import { isModelAsset } from '../inference/model-info.ts';
import { modelInfoSchema, predictBodyDoc, predictResponseSchema, statsSchema } from './classifier-schemas.ts';

export interface ClassifierPluginOptions {
  classifier: Classifier;
  maxUploadBytes: number;
  /** For the OpenAPI document: the largest decoded image the classifier takes. */
  maxPixels: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    classifier: Classifier;
  }
}

const DEFAULT_TOP_K = 5;

const ASSET_TYPES: Record<string, string> = { '.svg': 'image/svg+xml', '.png': 'image/png' };

/** The model's routes: predict, model card (+ its pictures), and batching/worker statistics. */
async function classifierPlugin(app: FastifyInstance, options: ClassifierPluginOptions): Promise<void> {
  app.decorate('classifier', options.classifier);
  await registerUploadParsers(app, options.maxUploadBytes);
  predictRoute(app, options);
  modelCardRoutes(app, options.classifier);
  app.get(
    '/api/stats',
    {
      schema: {
        summary: 'Batching and worker statistics (batch sizes, queue, tensors per worker)',
        tags: ['operations'],
        response: { 200: statsSchema },
      },
    },
    async () => options.classifier.stats(),
  );
}

async function registerUploadParsers(app: FastifyInstance, maxUploadBytes: number): Promise<void> {
  // Multipart stays in memory (toBuffer under the size limit): uploads never touch the disk. One file
  // and one field (topK) at most, as the OpenAPI document says (predictBodyDoc).
  await app.register(multipart, {
    limits: { fileSize: maxUploadBytes, files: 1, fields: 1, parts: 2, fieldSize: 1024 },
  });
  // A raw image body (curl --data-binary @photo.jpg -H 'content-type: image/jpeg') is accepted too, with
  // or without media-type parameters (`image/jpeg; charset=binary` was refused with 415).
  app.addContentTypeParser(
    /^image\/[\w.+-]+\s*(;|$)/i,
    { parseAs: 'buffer', bodyLimit: maxUploadBytes },
    (_request, body, done) => done(null, body),
  );
}

function predictRoute(app: FastifyInstance, options: ClassifierPluginOptions): void {
  const { classifier, maxUploadBytes, maxPixels } = options;
  const numClasses = classifier.info.classes.length;
  app.post<{ Querystring: { topK?: number } }>(
    '/api/predict',
    {
      schema: {
        summary: 'Classify a food photo',
        description:
          'Send one photo (JPEG, PNG, WebP, GIF, AVIF or TIFF) as the multipart field `image`, or as a raw `image/*` body. ' +
          'It is resized and centre-cropped with the checkpoint’s own preprocess.json, exactly as in evaluation.',
        tags: ['classifier'],
        querystring: {
          type: 'object',
          properties: {
            topK: {
              type: 'integer',
              minimum: 1,
              // Also what Swagger UI's "Try it out" fills in (it offered 0, a 400).
              default: DEFAULT_TOP_K,
              description: `How many labels to return, most probable first; above ${numClasses} (the class count) returns all ${numClasses}. Also accepted as a multipart field.`,
            },
          },
        },
        response: {
          200: predictResponseSchema,
          ...errorResponses([400, 413, 415, 422, 503]),
        },
      },
      // Fastify would reject a multipart body against a body schema (the body is read in the handler),
      // so the upload is described for the OpenAPI document only.
      config: {
        swaggerTransform: ({ schema, url }) => ({
          schema: { ...schema, body: predictBodyDoc({ maxUploadBytes, maxPixels }) },
          url,
        }),
      },
      schemaErrorFormatter: (errors, dataVar) =>
        errors.some((error) => error.instancePath === '/topK')
          ? new TopKError()
          : new Error(`${dataVar}${errors[0]?.instancePath ?? ''} ${errors[0]?.message ?? 'is invalid'}`),
    },
    async (request, reply) => {
      const upload = request.isMultipart()
        ? await readMultipartUpload(request)
        : { image: rawImageBody(request) };
      const topK = parseTopK(upload.topK ?? request.query.topK, numClasses);
      const { predictions, timings } = await classifier.classify(upload.image, topK);
      void reply.header('server-timing', serverTiming(timings));
      const { name, checkpoint } = classifier.info;
      return { predictions, model: { name, checkpoint }, latencyMs: round(reply.elapsedTime, 2) };
    },
  );
}

/** The model card and its pictures. */
function modelCardRoutes(app: FastifyInstance, classifier: Classifier): void {
  app.get(
    '/api/model',
    {
      schema: {
        summary: 'The model card: classes, parameters, preprocessing, training and test metrics',
        tags: ['classifier'],
        response: { 200: modelInfoSchema },
      },
    },
    async () => classifier.info,
  );

  app.get<{ Params: { name: string } }>(
    '/api/model/assets/:name',
    {
      schema: {
        summary:
          'A model-card picture: training curves, confusion matrix (checkpoint, --report or run folder)',
        tags: ['classifier'],
        params: {
          type: 'object',
          required: ['name'],
          properties: {
            name: { type: 'string', description: 'curves.svg, confusion.svg, curves.png or confusion.png' },
          },
        },
        response: {
          200: {
            description: 'The picture',
            content: Object.fromEntries(
              Object.values(ASSET_TYPES).map((type) => [
                type,
                { schema: { type: 'string', format: 'binary' } },
              ]),
            ),
          },
          ...errorResponses([404]),
        },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      // Only whitelisted names, and only those found at start: the folders hold nothing else to share.
      const file = isModelAsset(name) ? classifier.assetFiles.get(name) : undefined;
      if (!file) throw new AssetNotFoundError(name);
      const bytes = await readFile(file).catch(() => {
        throw new AssetNotFoundError(name);
      });
      return reply
        .type(ASSET_TYPES[path.extname(name)])
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .send(bytes);
    },
  );
}

async function readMultipartUpload(request: FastifyRequest): Promise<{ image: Uint8Array; topK?: string }> {
  let image: Uint8Array | undefined;
  let topK: string | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'image') throw new ImageFieldError(part.fieldname);
        if (image) throw new MultipleImagesError();
        image = await part.toBuffer();
      } else if (part.fieldname === 'topK') {
        topK = String(part.value);
      } else if (part.fieldname === 'image') {
        // A text field, not a file: curl -F image=photo.jpg (without @) sends the name, not the photo.
        throw new ImageMissingError();
      } else {
        throw new FieldUnexpectedError(part.fieldname);
      }
    }
  } catch (error) {
    // busboy reports a broken body (no boundary, a boundary the body never uses, a missing end) as a
    // plain Error without a status, which answered 500; it is the client's malformed request.
    // Found by test/reliability/bad-input.test.ts.
    if (isParserError(error)) throw new MultipartMalformedError((error as Error).message);
    throw error;
  }
  if (!image) throw new ImageMissingError();
  return { image, topK };
}

/** An error of the multipart parser itself: no HTTP status and not one of ours. */
function isParserError(error: unknown): boolean {
  return error instanceof Error && (error as { statusCode?: number }).statusCode === undefined;
}

function rawImageBody(request: FastifyRequest): Uint8Array {
  if (request.body === undefined || (Buffer.isBuffer(request.body) && request.body.length === 0)) {
    throw new ImageMissingError();
  }
  // Fastify's own JSON and text parsers accept those bodies; they are not images.
  if (!Buffer.isBuffer(request.body))
    throw new UnsupportedMediaTypeError(request.headers['content-type'] ?? 'none');
  return request.body;
}

/**
 * At least 1; more than the class count is capped rather than refused, so clients that always ask for
 * the top 5 (the web UI, `pnpm predict`) work with a model of fewer classes.
 */
function parseTopK(value: string | number | undefined, numClasses: number): number {
  const topK = value === undefined || value === '' ? DEFAULT_TOP_K : Number(value);
  if (!Number.isInteger(topK) || topK < 1) throw new TopKError();
  return Math.min(topK, numClasses);
}

function errorResponses(statuses: number[]): Record<number, { $ref: string }> {
  return Object.fromEntries(statuses.map((status) => [status, { $ref: 'ErrorBody#' }]));
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export default fp(classifierPlugin, { name: 'classifier', fastify: '5.x' });

/**
 * Where the request's time went, as a Server-Timing header (browsers' devtools show it; bench:serve
 * sums it): decode + resize, waiting in the batcher's queue, its batch on a worker, and both together.
 */
export function serverTiming(timings: Classification['timings']): string {
  return [
    `preprocess;dur=${timings.preprocessMs.toFixed(1)}`,
    `queue;dur=${timings.queuedMs.toFixed(1)}`,
    `run;dur=${timings.runMs.toFixed(1)};desc="batch of ${timings.batchSize}"`,
    `inference;dur=${timings.inferenceMs.toFixed(1)}`,
  ].join(', ');
}
