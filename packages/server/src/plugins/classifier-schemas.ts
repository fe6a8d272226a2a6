import { formatBytes } from '../errors.ts';

/** JSON schemas of the classifier routes' responses (serialisation and the OpenAPI document). */

const nullableNumber = { type: ['number', 'null'] } as const;

export const predictResponseSchema = {
  description: 'The most probable labels, most probable first',
  type: 'object',
  required: ['predictions', 'model', 'latencyMs'],
  properties: {
    predictions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['label', 'probability'],
        properties: {
          label: { type: 'string', description: 'Class name as in labels.json, e.g. "chicken_wings"' },
          probability: { type: 'number', minimum: 0, maximum: 1 },
        },
      },
    },
    model: {
      type: 'object',
      required: ['name', 'checkpoint'],
      properties: { name: { type: 'string' }, checkpoint: { type: 'string', description: 'RUN/best' } },
    },
    latencyMs: {
      type: 'number',
      description: 'Time in the server: upload parsing, preprocessing, queue, inference',
    },
  },
} as const;

export const modelInfoSchema = {
  description: 'The model card',
  type: 'object',
  required: [
    'name',
    'checkpoint',
    'classes',
    'architecture',
    'parameters',
    'sizeBytes',
    'preprocess',
    'training',
    'test',
    'assets',
    'engine',
    'dataset',
    'int8Guard',
    'browserModel',
  ],
  properties: {
    name: { type: 'string' },
    checkpoint: { type: 'string' },
    classes: { type: 'array', items: { type: 'string' } },
    architecture: {
      type: 'string',
      description: 'The network: "ResNet-50", or e.g. "ResNet-14, 1/16 width" for a small one',
    },
    parameters: { type: 'integer' },
    sizeBytes: { type: 'integer' },
    preprocess: {
      type: 'object',
      properties: {
        version: { type: 'integer' },
        resizeShorterSide: { type: 'integer' },
        cropSize: { type: 'integer' },
        interpolation: { type: 'string' },
        mean: { type: 'array', items: { type: 'number' } },
        std: { type: 'array', items: { type: 'number' } },
        channelOrder: { type: 'string' },
        statsSource: { type: 'string' },
      },
    },
    training: {
      type: 'object',
      properties: {
        epoch: nullableNumber,
        epochs: nullableNumber,
        bestValAccuracy: nullableNumber,
        valTop5: nullableNumber,
      },
    },
    test: {
      type: ['object', 'null'],
      properties: { accuracy: nullableNumber, top5: nullableNumber, macroF1: nullableNumber },
    },
    metrics: { type: 'object', additionalProperties: true, description: "The checkpoint's metrics.json" },
    assets: {
      type: 'array',
      items: { type: 'string' },
      description: 'Pictures available at /api/model/assets/{name}',
    },
    dataset: {
      type: 'object',
      description: 'What the model was trained on',
      required: ['name', 'synthetic'],
      properties: {
        name: { type: ['string', 'null'] },
        synthetic: {
          type: ['boolean', 'null'],
          description: 'True for generated images (the synthetic demo): not a food model',
        },
      },
    },
    browserModel: {
      type: ['object', 'null'],
      description:
        'The ONNX model the server runs, for classifying on the device (the web UI\'s "on this device"); its url holds the sha256 of the file, so it can be cached for good. Null on tfjs.',
      required: ['url', 'precision', 'bytes', 'sha256'],
      properties: {
        url: { type: 'string' },
        precision: { type: 'string', enum: ['float32', 'int8'] },
        bytes: { type: 'integer' },
        sha256: { type: 'string' },
      },
    },
    int8Guard: {
      type: ['object', 'null'],
      description:
        "The int8 guard's decision on the int8 export (kept only if, on the validation split, its top-1 is within 0.5 points of float32 and agrees with float32 on >= 98 % of images); null without a record",
      required: ['decision', 'reason', 'figures', 'limits'],
      properties: {
        decision: { type: 'string', enum: ['kept', 'refused', 'forced'] },
        reason: { type: 'string' },
        figures: {
          type: ['object', 'null'],
          properties: {
            split: { type: 'string' },
            images: { type: 'integer' },
            float32Correct: { type: 'integer' },
            int8Correct: { type: 'integer' },
            agreeing: { type: 'integer' },
            float32Top1: nullableNumber,
            int8Top1: nullableNumber,
            agreement: nullableNumber,
          },
        },
        limits: {
          type: 'object',
          properties: { maxTop1DropPoints: { type: 'number' }, minAgreement: { type: 'number' } },
        },
      },
    },
    engine: {
      type: 'object',
      description:
        'What runs the model (`--engine auto` picks the ONNX export beside the checkpoint when there is one)',
      required: ['name', 'file', 'precision'],
      properties: {
        name: { type: 'string', enum: ['tfjs', 'onnx'] },
        file: { type: 'string', description: 'The model file, as RUN/best.onnx or RUN/best/model.json' },
        precision: { type: ['string', 'null'], enum: ['float32', 'int8', null] },
      },
    },
  },
} as const;

export const statsSchema = {
  type: 'object',
  properties: {
    ready: { type: 'boolean' },
    batcher: {
      type: 'object',
      properties: {
        queued: { type: 'integer' },
        batchesInFlight: { type: 'integer' },
        batches: { type: 'integer' },
        images: { type: 'integer' },
        batchSizes: {
          type: 'object',
          additionalProperties: { type: 'integer' },
          description: 'batch size → number of batches of that size',
        },
      },
    },
    slots: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          state: { type: 'string', enum: ['loading', 'idle', 'busy', 'failed'] },
          numTensors: { type: 'integer', description: 'tf.memory().numTensors in that thread (-1: unknown)' },
          numBytes: { type: 'integer' },
          batches: { type: 'integer' },
          restarts: { type: 'integer' },
        },
      },
    },
  },
} as const;

/**
 * The upload of `POST /api/predict`, for the OpenAPI document only (the handler reads the body itself):
 * exactly what the handler and its multipart limits accept, so every request the document calls valid
 * is accepted. The bytes must still decode as an image (415, 422 otherwise).
 */
export function predictBodyDoc(limits: { maxUploadBytes: number; maxPixels: number }) {
  const photo = {
    type: 'string',
    format: 'binary',
    maxLength: limits.maxUploadBytes,
    description: `JPEG, PNG, WebP, GIF, AVIF or TIFF, at most ${formatBytes(limits.maxUploadBytes)} and ${limits.maxPixels.toLocaleString('en')} pixels once decoded (413 above either).`,
  };
  return {
    content: {
      'multipart/form-data': {
        schema: {
          type: 'object',
          required: ['image'],
          // Any other field answers 400 FIELD_UNEXPECTED; a second file 400 IMAGE_MULTIPLE.
          additionalProperties: false,
          properties: {
            image: { ...photo, description: `The photo, exactly one file. ${photo.description}` },
            topK: {
              type: 'integer',
              minimum: 1,
              description: 'How many labels to return (as the topK query parameter, which it overrides).',
            },
          },
        },
      },
      'image/*': { schema: { ...photo, description: `The photo as the raw body. ${photo.description}` } },
    },
  };
}
