import createError from '@fastify/error';
import type { FastifyError, FastifyInstance } from 'fastify';

/**
 * Every error the API answers with is created here, once, with its code and status; `toErrorReply`
 * maps everything else (image decoding, multipart, Fastify's own) onto the same shape in one place.
 * Every error body is `{ error: { code, message } }` and the message says what to do next.
 */

const HOW_TO_SEND =
  'Send the photo as the multipart field "image" (curl -F image=@photo.jpg URL) or as a raw image/* body.';

export const ImageMissingError = createError<[]>(
  'IMAGE_MISSING',
  `The request has no image. ${HOW_TO_SEND}`,
  400,
);
export const ImageFieldError = createError<[string]>(
  'IMAGE_FIELD_UNEXPECTED',
  'The file is in the multipart field "%s"; put it in the field "image".',
  400,
);
export const FieldUnexpectedError = createError<[string]>(
  'FIELD_UNEXPECTED',
  'The multipart field "%s" is not accepted: send the photo as "image" and optionally "topK", nothing else.',
  400,
);
export const MultipleImagesError = createError<[]>(
  'IMAGE_MULTIPLE',
  'Send exactly one image per request; to classify several photos, send one request per photo.',
  400,
);
export const MultipartMalformedError = createError<[string]>(
  'MULTIPART_MALFORMED',
  `The multipart body cannot be parsed (%s). ${HOW_TO_SEND}`,
  400,
);
export const TopKError = createError<[]>(
  'TOPK_INVALID',
  'topK must be a whole number from 1 up (above the number of classes, every class is returned).',
  400,
);
export const UploadTooLargeError = createError<[string]>(
  'UPLOAD_TOO_LARGE',
  'The upload is larger than the %s limit. Send a smaller or more compressed photo, or start the server with a larger --max-upload-bytes.',
  413,
);
export const UnsupportedMediaTypeError = createError<[string]>(
  'UNSUPPORTED_MEDIA_TYPE',
  `Content-Type "%s" is not accepted. ${HOW_TO_SEND}`,
  415,
);
export const QueueFullError = createError<[number]>(
  'QUEUE_FULL',
  'The server is busy (%d images waiting); retry after the number of seconds in the Retry-After header.',
  503,
);
export const ModelLoadingError = createError<[]>(
  'MODEL_LOADING',
  'The model is still loading; retry in a few seconds (GET /api/ready answers 200 once it can classify).',
  503,
);
export const ShuttingDownError = createError<[]>(
  'SHUTTING_DOWN',
  'The server is shutting down; retry against another instance or after it restarts.',
  503,
);
export const WorkerFailedError = createError<[string]>(
  'WORKER_FAILED',
  'The inference worker stopped while classifying this image (%s); it is being replaced, retry in a second.',
  503,
);
export const RouteNotFoundError = createError<[string, string]>(
  'NOT_FOUND',
  'There is no route %s %s. The API is described at GET /docs.',
  404,
);
export const MethodNotAllowedError = createError<[string, string, string]>(
  'METHOD_NOT_ALLOWED',
  '%s %s is not supported; use %s (see the Allow header). The API is described at GET /docs.',
  405,
);
export const AssetNotFoundError = createError<[string]>(
  'ASSET_NOT_FOUND',
  'No %s for this model: pnpm train draws curves.svg in the run folder; pnpm evaluate --split test writes the confusion matrix into reports/, where the server finds it at start (or pass --report DIR).',
  404,
);

export const BrowserModelNotFoundError = createError<[string]>(
  'BROWSER_MODEL_NOT_FOUND',
  'No model at %s: the server serves only its current ONNX model, at the url GET /api/model gives as browserModel.url (it changes with the model). Reload the page.',
  404,
);

const OWN_ERRORS = [
  ImageMissingError,
  ImageFieldError,
  FieldUnexpectedError,
  MultipleImagesError,
  MultipartMalformedError,
  TopKError,
  UploadTooLargeError,
  UnsupportedMediaTypeError,
  QueueFullError,
  ModelLoadingError,
  ShuttingDownError,
  WorkerFailedError,
  RouteNotFoundError,
  MethodNotAllowedError,
  AssetNotFoundError,
  BrowserModelNotFoundError,
];

/** Seconds a client should wait before retrying each 503. */
const RETRY_AFTER_SECONDS: Record<string, number> = {
  QUEUE_FULL: 1,
  MODEL_LOADING: 5,
  SHUTTING_DOWN: 5,
  WORKER_FAILED: 1,
};

/** `ImageDecodeError` codes (from @food/core/preprocess/image) → HTTP status. */
const IMAGE_ERROR_STATUS: Record<string, number> = {
  IMAGE_EMPTY: 400,
  IMAGE_CORRUPT: 422,
  IMAGE_UNSUPPORTED: 415,
  IMAGE_TOO_LARGE: 413,
  IMAGE_TOO_THIN: 422,
};

export interface ErrorReply {
  statusCode: number;
  code: string;
  message: string;
  retryAfterSeconds?: number;
}

/** The one place that decides status, code and message for any error a route can throw. */
export function toErrorReply(
  error: unknown,
  limits: { maxUploadBytes: number },
  contentType?: string,
): ErrorReply {
  const { code, statusCode, message } = error as Partial<FastifyError>;
  const reply = (status: number, replyCode: string, text: string): ErrorReply => ({
    statusCode: status,
    code: replyCode,
    message: text,
    ...(RETRY_AFTER_SECONDS[replyCode] !== undefined && {
      retryAfterSeconds: RETRY_AFTER_SECONDS[replyCode],
    }),
  });
  if (OWN_ERRORS.some((own) => error instanceof own)) {
    return reply(statusCode ?? 500, code ?? 'INTERNAL', message ?? '');
  }
  if (typeof code === 'string' && IMAGE_ERROR_STATUS[code] !== undefined) {
    return reply(IMAGE_ERROR_STATUS[code], code, message ?? code);
  }
  if ((error as FastifyError).validation) {
    return reply(400, 'INVALID_REQUEST', `${message}. The request format is described at GET /docs.`);
  }
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return toErrorReply(new UploadTooLargeError(formatBytes(limits.maxUploadBytes)), limits);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return toErrorReply(new UnsupportedMediaTypeError(contentType ?? 'none'), limits);
    case 'FST_FILES_LIMIT':
      return toErrorReply(new MultipleImagesError(), limits);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return reply(
        400,
        'INVALID_JSON',
        `The body is not valid JSON, and no route takes JSON anyway. ${HOW_TO_SEND}`,
      );
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return reply(400, 'TOO_MANY_FIELDS', `Too many form fields. Send only "image" and optionally "topK".`);
  }
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    // Fastify's and plugins' own client errors (bad JSON, malformed multipart, ...): keep status and code.
    return reply(statusCode, code ?? 'BAD_REQUEST', message ?? 'Bad request.');
  }
  return reply(
    500,
    'INTERNAL',
    'Internal server error; the server log has the details under this request id.',
  );
}

const SHED_WARNING_INTERVAL_MS = 10_000;

/** Installs the error and not-found handlers that give every error the `{ error: { code, message } }` shape. */
export function installErrorHandlers(app: FastifyInstance, limits: { maxUploadBytes: number }): void {
  let shed = 0;
  let lastShedWarning = Number.NEGATIVE_INFINITY;
  app.setErrorHandler((error, request, reply) => {
    const { statusCode, code, message, retryAfterSeconds } = toErrorReply(
      error,
      limits,
      request.headers['content-type'],
    );
    if (statusCode === 503) {
      // Load shedding is expected under load: a warning now and then with a count, not one per request
      // (an overload test wrote tens of megabytes of them).
      shed += 1;
      if (Date.now() - lastShedWarning >= SHED_WARNING_INTERVAL_MS) {
        request.log.warn(
          { code, statusCode, shed },
          `${shed} request(s) answered 503 since the last warning; latest: ${message}`,
        );
        shed = 0;
        lastShedWarning = Date.now();
      }
    } else if (statusCode >= 500) {
      request.log.error({ err: error }, 'request failed');
    } else {
      // A client's mistake: its answer says what to do; the log line is for debugging.
      request.log.debug({ code, statusCode }, message);
    }
    if (retryAfterSeconds !== undefined) void reply.header('retry-after', String(retryAfterSeconds));
    return reply.status(statusCode).send({ error: { code, message } });
  });
  app.setNotFoundHandler((request, reply) => {
    const { message, code } = new RouteNotFoundError(request.method, request.url.split('?')[0]);
    return reply.status(404).send({ error: { code, message } });
  });
}

/** Schema of every error body, for the OpenAPI document and response serialisation. */
export const errorBodySchema = {
  $id: 'ErrorBody',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}
