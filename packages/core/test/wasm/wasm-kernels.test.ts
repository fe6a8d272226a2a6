import { describeWasmKernelTests } from './wasm-kernel-cases.ts';

describeWasmKernelTests(1);
