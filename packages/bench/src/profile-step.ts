#!/usr/bin/env -S npx tsx
/**
 * `pnpm bench:profile`: where a ResNet-50 training step spends its time, as markdown tables. On wasm
 * (the default), per kernel (`tf.profile`); with `--backend tensorflow`, per TensorFlow op executed
 * through the binding, by phase (forward, backward, optimizer), with the step's allocations
 * (profile-tensorflow-step.ts). One warm-up step first (it creates Adam's moments and XNNPACK's
 * operators), then the profiled step. `--forward` profiles an inference call through the engine
 * instead (tensorflow only, profile-tensorflow-forward.ts).
 */
import { initBackend } from '@food/core/backend';
import { parsePositiveInteger } from '@food/core/parse-number';
import { useFusedKernels } from '@food/core/tensorflow-ops';
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { createTrainStep } from './model-benchmarks.ts';
import { forwardProfileMarkdown, profileTensorflowForward } from './profile-tensorflow-forward.ts';
import { profileTensorflowStep, tensorflowProfileMarkdown } from './profile-tensorflow-step.ts';
import { RESNET50_224 } from './spec.ts';

interface KernelTime {
  name: string;
  ms: number;
  calls: number;
}

/** Kernel times of one step, largest first. Ops that only wrap a kernel (`fusedConv2d__op`) are left out. */
async function profileStep(batch: number): Promise<{ wallMs: number; kernels: KernelTime[] }> {
  const { step, dispose } = createTrainStep(RESNET50_224, batch);
  try {
    step();
    const started = performance.now();
    const profile = await tf.profile(() => {
      step();
    });
    const wallMs = performance.now() - started;
    const byName = new Map<string, KernelTime>();
    for (const kernel of profile.kernels) {
      if (kernel.name.endsWith('__op')) continue;
      const entry = byName.get(kernel.name) ?? { name: kernel.name, ms: 0, calls: 0 };
      entry.ms += kernel.kernelTimeMs as number;
      entry.calls++;
      byName.set(kernel.name, entry);
    }
    return { wallMs, kernels: [...byName.values()].sort((a, b) => b.ms - a.ms) };
  } finally {
    dispose();
  }
}

interface ProfileFlags {
  backend: 'wasm' | 'tensorflow';
  batch: number;
  threads?: number;
  top: number;
  imageSize: number;
  fusedKernels: boolean;
  forward: boolean;
  fold: boolean;
}

async function profileWasm(flags: ProfileFlags): Promise<string> {
  const backend = await initBackend('wasm', () => {}, { wasmThreads: flags.threads });
  const { wallMs, kernels } = await profileStep(flags.batch);
  const kernelMs = kernels.reduce((sum, k) => sum + k.ms, 0);
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const share = (ms: number) => `${((100 * ms) / wallMs).toFixed(1)} %`;
  const lines = [
    `Training step, ResNet-50 224, batch ${flags.batch}, wasm with ${backend.threads} thread(s): ` +
      `${Math.round(wallMs)} ms (${Math.round(wallMs / flags.batch)} ms per image); kernels ${Math.round(kernelMs)} ms, ` +
      `JavaScript between them (tape, gradient bookkeeping) ${Math.round(wallMs - kernelMs)} ms.`,
    '',
    row(['Kernel', 'ms', 'Share of the step', 'Calls']),
    row(['---', '---', '---', '---']),
    ...kernels
      .slice(0, flags.top)
      .map((k) => row([k.name, Math.round(k.ms).toString(), share(k.ms), String(k.calls)])),
  ];
  const rest = kernels.slice(flags.top);
  if (rest.length > 0) {
    const ms = rest.reduce((sum, k) => sum + k.ms, 0);
    const calls = rest.reduce((sum, k) => sum + k.calls, 0);
    lines.push(row([`${rest.length} others`, Math.round(ms).toString(), share(ms), String(calls)]));
  }
  return lines.join('\n');
}

async function profileTensorflow(flags: ProfileFlags): Promise<string> {
  const backend = await initBackend('tensorflow', () => {});
  useFusedKernels(flags.fusedKernels);
  const shape = { ...RESNET50_224, inputSize: flags.imageSize };
  if (flags.forward) {
    const profile = await profileTensorflowForward(shape, flags.batch, flags.fold);
    const title =
      `Forward through createTfjsEngine, ResNet-50 ${flags.imageSize}, batch ${flags.batch}, ` +
      `tensorflow (${backend.gpu ? 'GPU' : 'CPU'}), ${flags.fold ? 'BatchNorm folded' : 'model.predict'}`;
    return forwardProfileMarkdown(profile, title, flags.top);
  }
  const profile = await profileTensorflowStep(shape, flags.batch);
  const title =
    `Training step, ResNet-50 ${flags.imageSize}, batch ${flags.batch}, tensorflow (${backend.gpu ? 'GPU' : 'CPU'}), ` +
    `fused kernels ${flags.fusedKernels ? 'on' : 'off'}`;
  return tensorflowProfileMarkdown(profile, title, flags.top);
}

const program = new Command('bench:profile')
  .description('Where one ResNet-50 training step spends its time, as markdown tables.')
  .option(
    '--backend <name>',
    'wasm (per kernel) or tensorflow (per TensorFlow op, by phase)',
    parseProfileBackend,
    'wasm',
  )
  .option('--batch <n>', 'images per step', parsePositiveInteger, 4)
  .option('--threads <n>', 'wasm threads (default: every core)', parsePositiveInteger)
  .option('--image-size <px>', 'input side, tensorflow only (smaller runs faster)', parsePositiveInteger, 224)
  .option(
    '--no-fused-kernels',
    "tensorflow only: the op-by-op step (tfjs's BatchNorm and Adam) instead of TensorFlow's fused kernels",
  )
  .option('--forward', 'tensorflow only: profile an inference call through the engine, not a training step')
  .option('--no-fold', 'with --forward: model.predict instead of the BatchNorm-folded forward')
  .option('--top <n>', 'kernels listed; the rest are summed in one row', parsePositiveInteger, 15)
  .action(async (flags: ProfileFlags) => {
    if (flags.forward && flags.backend !== 'tensorflow') {
      process.stderr.write('--forward profiles the tensorflow backend only; add --backend tensorflow.\n');
      process.exit(1);
    }
    const markdown =
      flags.backend === 'tensorflow' ? await profileTensorflow(flags) : await profileWasm(flags);
    process.stdout.write(`${markdown}\n`);
  });

function parseProfileBackend(value: string): ProfileFlags['backend'] {
  if (value === 'wasm' || value === 'tensorflow') return value;
  throw Object.assign(new Error(`--backend is wasm or tensorflow, not "${value}"`), {
    code: 'commander.invalidArgument',
    exitCode: 1,
  });
}

await program.parseAsync();
