#!/usr/bin/env -S npx tsx
/**
 * `pnpm bench:profile`: where a ResNet-50 training step on wasm spends its time, per kernel
 * (`tf.profile`), as a markdown table. One warm-up step first (it creates Adam's moments and XNNPACK's
 * operators), then one profiled step.
 */
import { initBackend } from '@food/core/backend';
import { parsePositiveInteger } from '@food/core/parse-number';
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { createTrainStep } from './model-benchmarks.ts';
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

const program = new Command('bench:profile')
  .description('Per-kernel time of one ResNet-50 training step on wasm, as a markdown table.')
  .option('--batch <n>', 'images per step', parsePositiveInteger, 4)
  .option('--threads <n>', 'wasm threads (default: every core)', parsePositiveInteger)
  .option('--top <n>', 'kernels listed; the rest are summed in one row', parsePositiveInteger, 15)
  .action(async (flags: { batch: number; threads?: number; top: number }) => {
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
    process.stdout.write(`${lines.join('\n')}\n`);
  });

await program.parseAsync();
