/**
 * What `pnpm trainer export --format onnx` stores in the model's `metadata_props` (JSON strings), so an
 * .onnx file carries its preprocessing and labels like a checkpoint folder does, and names the
 * checkpoint it came from.
 */
import { readFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import { UserError } from '../errors.ts';
import { type Labels, parseLabels } from '../labels.ts';
import { type PreprocessConfig, parsePreprocessConfig } from '../preprocess/config.ts';

export const ONNX_METADATA_KEYS = {
  preprocess: 'food.preprocess',
  labels: 'food.labels',
  source: 'food.source',
  quantization: 'food.quantization',
} as const;

/** The checkpoint an .onnx file was exported from. */
export interface OnnxSource {
  checkpoint: string;
  /** sha256 of the checkpoint's weights.bin (from its checksums.json): identifies the weights. */
  weightsSha256: string;
}

export interface OnnxQuantization {
  /** `int8-qdq`: int8 per-channel weights, uint8 activations, QuantizeLinear/DequantizeLinear pairs. */
  format: 'int8-qdq';
  calibration: { source: string; images: number; method: string };
}

export interface OnnxModelMetadata {
  preprocess: PreprocessConfig;
  labels: Labels;
  source?: OnnxSource;
  quantization?: OnnxQuantization;
}

export class OnnxModelError extends UserError {
  override name = 'OnnxModelError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'ONNX_MODEL_INVALID');
    if (options?.cause) this.cause = options.cause;
  }
}

/** Serialises metadata as `metadata_props` entries. */
export function encodeOnnxMetadata(metadata: OnnxModelMetadata): Record<string, string> {
  const props: Record<string, string> = {
    [ONNX_METADATA_KEYS.preprocess]: JSON.stringify(metadata.preprocess),
    [ONNX_METADATA_KEYS.labels]: JSON.stringify(metadata.labels),
  };
  if (metadata.source) props[ONNX_METADATA_KEYS.source] = JSON.stringify(metadata.source);
  if (metadata.quantization) props[ONNX_METADATA_KEYS.quantization] = JSON.stringify(metadata.quantization);
  return props;
}

/** Reads and validates the metadata of an .onnx file written by the exporter. */
export async function readOnnxMetadata(file: string): Promise<OnnxModelMetadata> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new OnnxModelError(
      `Cannot read ONNX model ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}). ` +
        'Export one with `pnpm trainer export --checkpoint DIR --format onnx --out FILE`.',
      { cause: error },
    );
  }
  let props: Record<string, string>;
  try {
    const model = onnxProto.onnx.ModelProto.decode(bytes);
    props = Object.fromEntries(model.metadataProps.map((entry) => [entry.key, entry.value]));
  } catch (error) {
    throw new OnnxModelError(`${file} is not an ONNX model (${(error as Error).message}); export it again.`, {
      cause: error,
    });
  }
  return parseOnnxMetadata(props, file);
}

export function parseOnnxMetadata(props: Record<string, string>, file: string): OnnxModelMetadata {
  const json = (key: string, required: boolean): unknown => {
    const text = props[key];
    if (text === undefined) {
      if (!required) return undefined;
      throw new OnnxModelError(
        `${file} has no "${key}" metadata: it was not written by \`pnpm trainer export\`. Export the checkpoint again.`,
      );
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new OnnxModelError(`${file}: metadata "${key}" is not valid JSON; export the checkpoint again.`, {
        cause: error,
      });
    }
  };
  const preprocess = parsePreprocessConfig(json(ONNX_METADATA_KEYS.preprocess, true), `${file} (preprocess)`);
  const labels = parseLabels(json(ONNX_METADATA_KEYS.labels, true), `${file} (labels)`);
  const source = json(ONNX_METADATA_KEYS.source, false) as OnnxSource | undefined;
  const quantization = json(ONNX_METADATA_KEYS.quantization, false) as OnnxQuantization | undefined;
  return { preprocess, labels, source, quantization };
}
