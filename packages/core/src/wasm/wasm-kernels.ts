import * as tf from '@tensorflow/tfjs';
import { conv2DBackpropFilterWasm, conv2DBackpropInputWasm } from './wasm-conv-backprop.ts';
import { identityWasm, leadingAxesReduction, tileWasm } from './wasm-layout-kernels.ts';

/**
 * Kernels that ResNet-50 training needs and tfjs-backend-wasm 4.22 lacks or runs slowly:
 * - Conv2DBackpropFilter is missing, so no conv can train; Conv2DBackpropInput is a scalar loop.
 * - Tile, Sum, Mean and Identity dominate the BatchNorm gradient once the convolutions are fast.
 * Every other kernel of a ResNet training step (FusedConv2D, FusedBatchNorm, Relu/Step, MaxPool,
 * MaxPoolGrad, BatchMatMul, Softmax, elementwise ops) is native to wasm.
 *
 * Each entry builds its kernel from wasm's own (`original`, absent when wasm has none), which it
 * calls for the cases it does not handle.
 */
const KERNELS: ReadonlyArray<{ kernelName: string; make: (original: tf.KernelFunc) => tf.KernelFunc }> = [
  { kernelName: 'Conv2DBackpropFilter', make: () => conv2DBackpropFilterWasm as tf.KernelFunc },
  { kernelName: 'Conv2DBackpropInput', make: () => conv2DBackpropInputWasm as tf.KernelFunc },
  { kernelName: 'Tile', make: tileWasm },
  { kernelName: 'Sum', make: (original) => leadingAxesReduction('sum', original) },
  { kernelName: 'Mean', make: (original) => leadingAxesReduction('mean', original) },
  { kernelName: 'Identity', make: identityWasm },
];

export const WASM_TRAINING_KERNELS: readonly string[] = KERNELS.map((k) => k.kernelName);

const registered = new Set<tf.KernelFunc>();

function missingKernel(kernelName: string): tf.KernelFunc {
  return () => {
    throw new Error(`wasm training kernels: wasm has no ${kernelName} kernel to fall back to`);
  };
}

/**
 * Registers the training kernels for the 'wasm' backend, replacing wasm's own where it has one.
 * Idempotent. Call it before or after `tf.setBackend('wasm')`: the replaced kernel's setup function
 * is kept, so the engine still initialises the wasm function our fallback calls.
 */
export function registerWasmTrainingKernels(): void {
  for (const { kernelName, make } of KERNELS) {
    const current = tf.getKernel(kernelName, 'wasm');
    if (current != null && registered.has(current.kernelFunc)) continue;
    const kernelFunc = make(current?.kernelFunc ?? missingKernel(kernelName));
    registered.add(kernelFunc);
    if (current != null) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      kernelFunc,
      setupFunc: current?.setupFunc,
      disposeFunc: current?.disposeFunc,
    });
  }
}
