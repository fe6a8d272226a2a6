import * as tf from '@tensorflow/tfjs';
import { conv2DBackpropFilterWasm, conv2DBackpropInputWasm } from './wasm-conv-backprop.ts';

/**
 * Kernels that ResNet-50 training needs and tfjs-backend-wasm 4.22 lacks or runs slowly:
 * Conv2DBackpropFilter is missing (so no conv can train), Conv2DBackpropInput is a scalar loop.
 * Every other kernel of a ResNet training step (FusedConv2D, FusedBatchNorm and the ops of its
 * gradient, Relu/Step, MaxPool/MaxPoolGrad, Mean, BatchMatMul, Softmax, ...) is native to wasm.
 */
const KERNELS: ReadonlyArray<{ kernelName: string; kernelFunc: tf.KernelFunc }> = [
  { kernelName: 'Conv2DBackpropFilter', kernelFunc: conv2DBackpropFilterWasm as tf.KernelFunc },
  { kernelName: 'Conv2DBackpropInput', kernelFunc: conv2DBackpropInputWasm as tf.KernelFunc },
];

export const WASM_TRAINING_KERNELS: readonly string[] = KERNELS.map((k) => k.kernelName);

/**
 * Registers the training kernels for the 'wasm' backend, replacing wasm's own where it has one.
 * Idempotent. Works before or after `tf.setBackend('wasm')`: these kernels need no setup.
 */
export function registerWasmTrainingKernels(): void {
  for (const { kernelName, kernelFunc } of KERNELS) {
    const current = tf.getKernel(kernelName, 'wasm');
    if (current?.kernelFunc === kernelFunc) continue;
    if (current != null) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
}
