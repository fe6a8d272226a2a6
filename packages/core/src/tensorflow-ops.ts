/**
 * Runs TensorFlow ops by name through tfjs-node's backend (the binding executes any op libtensorflow
 * has, eagerly, as its own kernels do in `dist/kernels/`). Reached through `tf.backend()`, so nothing
 * here imports tfjs-node: backend.ts stays the only module that loads it.
 *
 * The fused training kernels (model/fused-batch-norm.ts, the trainer's fused Adam) run only where this
 * says they can: on the `tensorflow` backend, unless turned off with `useFusedKernels(false)` (the
 * parity tests run both paths in one process).
 */
import * as tf from '@tensorflow/tfjs';

/** An op attribute as tfjs-node's binding takes it (`TFE_OpSetAttr*`). */
export interface OpAttribute {
  name: string;
  type: number;
  value: boolean | number | string | number[];
}

/** The part of tfjs-node's `NodeJSKernelBackend` this module uses. */
interface TensorflowBackend {
  binding: {
    TF_ATTR_BOOL: number;
    TF_ATTR_FLOAT: number;
    TF_ATTR_INT: number;
    TF_ATTR_SHAPE: number;
    TF_ATTR_STRING: number;
    TF_ATTR_TYPE: number;
    TF_FLOAT: number;
  };
  executeMultipleOutputs(
    name: string,
    attrs: OpAttribute[],
    inputs: tf.Tensor[],
    numOutputs: number,
  ): tf.Tensor[];
}

let fusedKernelsWanted = true;

/** Turns the fused training kernels on (the default) or off for this process. */
export function useFusedKernels(enabled: boolean): void {
  fusedKernelsWanted = enabled;
}

function tensorflowBackend(): TensorflowBackend | undefined {
  if (tf.getBackend() !== 'tensorflow') return undefined;
  const backend = tf.backend() as unknown as Partial<TensorflowBackend>;
  return typeof backend.executeMultipleOutputs === 'function' && backend.binding !== undefined
    ? (backend as TensorflowBackend)
    : undefined;
}

/** True when training steps should use TensorFlow's fused kernels: tensorflow backend, not turned off. */
export function fusedKernelsActive(): boolean {
  return fusedKernelsWanted && tensorflowBackend() !== undefined;
}

type AttributeKind = 'TF_ATTR_FLOAT' | 'TF_ATTR_INT' | 'TF_ATTR_BOOL' | 'TF_ATTR_SHAPE' | 'TF_ATTR_STRING';

/** A builder for one attribute kind: the binding's enum value is read from the loaded backend. */
function attributeOf<Value extends OpAttribute['value']>(kind: AttributeKind) {
  return (name: string, value: Value): OpAttribute => ({
    name,
    type: requireTensorflowBackend().binding[kind],
    value,
  });
}

/** Attribute builders for float32 ops (the binding's enum values come from the loaded backend). */
export const opAttribute = {
  float32Type: (name: string): OpAttribute => {
    const { binding } = requireTensorflowBackend();
    return { name, type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT };
  },
  float: attributeOf<number>('TF_ATTR_FLOAT'),
  ints: attributeOf<number[]>('TF_ATTR_INT'),
  bool: attributeOf<boolean>('TF_ATTR_BOOL'),
  shape: attributeOf<number[]>('TF_ATTR_SHAPE'),
  string: attributeOf<string>('TF_ATTR_STRING'),
};

/** Executes the TensorFlow op `name` eagerly; the outputs are ordinary tfjs tensors the caller owns. */
export function runTensorflowOp(
  name: string,
  attrs: OpAttribute[],
  inputs: tf.Tensor[],
  numOutputs: number,
): tf.Tensor[] {
  return requireTensorflowBackend().executeMultipleOutputs(name, attrs, inputs, numOutputs);
}

function requireTensorflowBackend(): TensorflowBackend {
  const backend = tensorflowBackend();
  if (backend === undefined) {
    throw new Error(
      `TensorFlow ops run only on the tensorflow backend, and this process runs on ${tf.getBackend()}; ` +
        'check fusedKernelsActive() before calling them.',
    );
  }
  return backend;
}

let resourceCount = 0;

/**
 * A float32 TensorFlow resource variable (`VarHandleOp`), the kind TensorFlow's in-place training ops
 * (`ResourceApplyAdam`) update. tfjs holds its handle as a string tensor; `destroy` frees the variable.
 */
export class ResourceVariable {
  readonly handle: tf.Tensor;

  constructor(initial: tf.Tensor) {
    resourceCount += 1;
    // A name unique in this process: the resource manager keys variables by it until destroyed.
    const [handle] = runTensorflowOp(
      'VarHandleOp',
      [
        opAttribute.string('container', ''),
        opAttribute.string('shared_name', `food_resource_variable_${process.pid}_${resourceCount}`),
        opAttribute.float32Type('dtype'),
        opAttribute.shape('shape', initial.shape),
      ],
      [],
      1,
    );
    // Kept: a variable outlives the tf.tidy it may be created in, as tfjs's own variables do.
    this.handle = tf.keep(handle as tf.Tensor);
    this.assign(initial);
  }

  /** Sets the value (TensorFlow shares `value`'s buffer until one of them is written). */
  assign(value: tf.Tensor): void {
    runTensorflowOp('AssignVariableOp', [opAttribute.float32Type('dtype')], [this.handle, value], 0);
  }

  /** The current value as a new tfjs tensor the caller owns. */
  read(): tf.Tensor {
    return runTensorflowOp(
      'ReadVariableOp',
      [opAttribute.float32Type('dtype')],
      [this.handle],
      1,
    )[0] as tf.Tensor;
  }

  destroy(): void {
    runTensorflowOp('DestroyResourceOp', [opAttribute.bool('ignore_lookup_error', true)], [this.handle], 0);
    this.handle.dispose();
  }
}

/** Calls of one TensorFlow op in one phase of the work, and the wall-clock time spent in them. */
export interface OpCount {
  phase: string;
  name: string;
  calls: number;
  ms: number;
}

/**
 * Every TensorFlow op `fn` executes through the binding, by name and by `phase()` at the time of the
 * call: tfjs kernels, the ops they are made of, and the ones run here directly (which `tf.profile`
 * does not see). Eager CPU ops run inside the call, so the time is the op's own; on a GPU it would be
 * the launch only.
 */
export function countTensorflowOps(fn: () => void, phase: () => string = () => ''): OpCount[] {
  const counter = startCounting(phase);
  try {
    fn();
  } finally {
    counter.stop();
  }
  return counter.counts();
}

/** `countTensorflowOps` for async work (an engine's predict); nothing else may run ops meanwhile. */
export async function countTensorflowOpsAsync(
  fn: () => Promise<void>,
  phase: () => string = () => '',
): Promise<OpCount[]> {
  const counter = startCounting(phase);
  try {
    await fn();
  } finally {
    counter.stop();
  }
  return counter.counts();
}

/** Wraps the binding's executeOp to count and time every op until `stop()`. */
function startCounting(phase: () => string): { stop: () => void; counts: () => OpCount[] } {
  const backend = requireTensorflowBackend() as TensorflowBackend & {
    binding: { executeOp: (name: string, ...rest: unknown[]) => unknown };
  };
  const binding = backend.binding;
  const counts = new Map<string, OpCount>();
  const executeOp = (name: string, ...rest: unknown[]) => {
    const started = performance.now();
    try {
      return binding.executeOp(name, ...rest);
    } finally {
      const key = `${phase()}/${name}`;
      const entry = counts.get(key) ?? { phase: phase(), name, calls: 0, ms: 0 };
      entry.calls += 1;
      entry.ms += performance.now() - started;
      counts.set(key, entry);
    }
  };
  backend.binding = Object.create(binding, { executeOp: { value: executeOp } });
  return {
    stop: () => {
      backend.binding = binding;
    },
    counts: () => [...counts.values()].sort((a, b) => b.ms - a.ms),
  };
}
