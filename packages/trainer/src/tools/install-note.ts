/**
 * `pnpm install`'s one line about the tensorflow backend (the root package.json's postinstall). tfjs-node's
 * own install script downloads libtensorflow from storage.googleapis.com; where it cannot, it now exits
 * quietly (patches/@tensorflow__tfjs-node*.patch) and this line says what to run instead, and why.
 */
import { isEntryPoint } from '@food/core/build-command-line';
import { type BindingState, tensorflowBindingState } from '../doctor/install-checks.ts';

/**
 * The line for the bindings' states, or undefined when one is present (nothing to do). The speed-up is
 * the measured one in docs/benchmarks.md: a training step at 0.28× wasm's time on a 2-core CPU.
 */
export function installNote(states: readonly BindingState[]): string | undefined {
  if (states.includes('present')) return undefined;
  return (
    'tensorflow backend: not set up (its libtensorflow download was unreachable). `pnpm setup:tensorflow` ' +
    '(1-2 min, from PyPI) adds it; it trains 3.5x faster than wasm on a CPU too (docs/benchmarks.md).\n'
  );
}

if (isEntryPoint(import.meta.url)) {
  const states = (['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'] as const).map(
    (specifier) => tensorflowBindingState(specifier).state,
  );
  process.stdout.write(installNote(states) ?? '');
}
