import { UserError } from '@food/core/errors';
import * as tf from '@tensorflow/tfjs';

export interface SplitModel {
  /** Input → boundary activation; frozen, always run in inference mode. */
  trunk: tf.LayersModel;
  /** Boundary activation → logits; shares its layers (and so its weights) with the full model. */
  tail: tf.LayersModel;
}

/**
 * Splits a functional model at the output of `boundaryLayer`: the frozen trunk runs once per image (or
 * once per data set when features are cached) and only the tail is differentiated. Training the tail
 * trains the full model, since the layers are the same objects.
 */
export function splitModelAt(model: tf.LayersModel, boundaryLayer: string): SplitModel {
  const boundary = model.getLayer(boundaryLayer);
  const boundaryIndex = model.layers.indexOf(boundary);
  // inboundNodes[0] is the node of the original graph; `layer.output` throws once a layer is reused.
  const boundaryOutput = boundary.inboundNodes[0].outputTensors[0];
  const trunk = tf.model({ inputs: model.inputs, outputs: boundaryOutput, name: `${model.name}_trunk` });

  const tailInput = tf.input({
    shape: boundaryOutput.shape.slice(1) as number[],
    name: `${boundaryLayer}_in`,
  });
  const rewired = new Map<number, tf.SymbolicTensor>([[boundaryOutput.id, tailInput]]);
  for (const layer of model.layers.slice(boundaryIndex + 1)) {
    const inbound = layer.inboundNodes[0].inputTensors;
    const inputs = inbound.map((tensor) => {
      const mapped = rewired.get(tensor.id);
      if (mapped === undefined) {
        throw new UserError(
          `cannot split the model at ${boundaryLayer}: layer ${layer.name} reads ${tensor.name} from before the split. Choose a stage output such as conv4_block6_out.`,
        );
      }
      return mapped;
    });
    const output = layer.apply(inputs.length === 1 ? inputs[0] : inputs) as tf.SymbolicTensor;
    rewired.set(layer.inboundNodes[0].outputTensors[0].id, output);
  }
  const modelOutput = model.outputs[0];
  const tailOutput = rewired.get(modelOutput.id);
  if (tailOutput === undefined)
    throw new Error(`model output ${modelOutput.name} not reached from ${boundaryLayer}`);
  return { trunk, tail: tf.model({ inputs: tailInput, outputs: tailOutput, name: `${model.name}_tail` }) };
}
