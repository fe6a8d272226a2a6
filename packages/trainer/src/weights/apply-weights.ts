import { UserError } from '@food/core/errors';
import { isBackboneLayer } from '@food/core/model/resnet50';
import type * as tf from '@tensorflow/tfjs';
import { countElements, type WeightMap } from './weight-map.ts';

export interface WeightCoverage {
  /** Backbone weights set from the file, by name. */
  loaded: string[];
  /** Backbone weights of the model that the file lacks. */
  missing: string[];
  /** File tensors that match no model weight. */
  unexpected: string[];
  /** Names present on both sides with different shapes. */
  misshaped: Array<{ name: string; model: number[]; file: number[] }>;
  /** Head weights (`predictions/...`): never in an ImageNet notop file, newly initialised by design. */
  head: string[];
  loadedParameters: number;
  backboneParameters: number;
  /** loadedParameters / backboneParameters × 100. */
  percent: number;
}

export class WeightImportError extends UserError {
  override name = 'WeightImportError';
  constructor(
    message: string,
    readonly coverage: WeightCoverage,
  ) {
    super(message, 'WEIGHTS_MISMATCH');
  }
}

/** Keras name of a model weight: `originalName`, since tfjs suffixes `name` (`_1`) in a second model. */
const kerasName = (weight: tf.LayerVariable) => weight.originalName;

/** Compares the file with the model's backbone without changing anything. */
export function matchWeights(model: tf.LayersModel, weights: WeightMap): WeightCoverage {
  const coverage: WeightCoverage = {
    loaded: [],
    missing: [],
    unexpected: [],
    misshaped: [],
    head: [],
    loadedParameters: 0,
    backboneParameters: 0,
    percent: 0,
  };
  const modelNames = new Set<string>();
  for (const layer of model.layers) {
    for (const weight of layer.weights) {
      const name = kerasName(weight);
      modelNames.add(name);
      if (!isBackboneLayer(layer.name)) {
        coverage.head.push(name);
        continue;
      }
      const shape = weight.shape as number[];
      coverage.backboneParameters += countElements(shape);
      const tensor = weights.get(name);
      if (!tensor) coverage.missing.push(name);
      else if (tensor.shape.join() !== shape.join()) {
        coverage.misshaped.push({ name, model: shape, file: tensor.shape });
      } else {
        coverage.loaded.push(name);
        coverage.loadedParameters += countElements(shape);
      }
    }
  }
  for (const name of weights.keys()) {
    // An include_top file's 1000-class `predictions` is not ours to load; ignore it rather than fail.
    if (!modelNames.has(name) && !name.startsWith('predictions/')) coverage.unexpected.push(name);
  }
  coverage.percent = (100 * coverage.loadedParameters) / Math.max(1, coverage.backboneParameters);
  return coverage;
}

/**
 * Sets the model's backbone weights by Keras name. Strict by default: every missing, unexpected or
 * mis-shaped tensor is named in one `WeightImportError` and nothing is changed. With `allowPartial`,
 * loads what matches and returns the coverage (the caller reports `percent`). The head is expected to
 * be absent and is left as initialised.
 */
export function applyWeights(
  model: tf.LayersModel,
  weights: WeightMap,
  options: { allowPartial?: boolean } = {},
): WeightCoverage {
  const coverage = matchWeights(model, weights);
  const problems = [
    ...coverage.missing.map((name) => `missing ${name}`),
    ...coverage.misshaped.map(
      ({ name, model: m, file }) => `mis-shaped ${name}: file [${file}], model [${m}]`,
    ),
    ...coverage.unexpected.map((name) => `unexpected ${name}`),
  ];
  if (problems.length > 0 && !options.allowPartial) {
    throw new WeightImportError(
      `the weights do not fit the model (${coverage.loaded.length} of ` +
        `${coverage.loaded.length + coverage.missing.length + coverage.misshaped.length} backbone tensors match, ` +
        `${coverage.percent.toFixed(1)}% of backbone parameters):\n  ${problems.join('\n  ')}\n` +
        'Use the ResNet-50 v1 Keras (notop) weights, or pass --allow-partial to load only what matches.',
      coverage,
    );
  }
  const loaded = new Set(coverage.loaded);
  for (const weight of model.weights) {
    if (loaded.has(kerasName(weight))) weight.write(weights.get(kerasName(weight))!);
  }
  return coverage;
}
