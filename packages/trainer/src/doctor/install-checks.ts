import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { CheckResult } from './check-result.ts';
import { GET_BINDING } from './fixes.ts';

/** Resolves packages as @food/core does (the optional native ones are its dependencies). */
const requireFromCore = createRequire(createRequire(import.meta.url).resolve('@food/core/backend'));

/** The folder of an installed package, found from its entry point (not every package exports package.json). */
function packageRoot(specifier: string): string | undefined {
  let folder: string;
  try {
    folder = path.dirname(requireFromCore.resolve(specifier));
  } catch {
    return undefined;
  }
  // Walk up to the package's own package.json (dist/ folders may hold a {"type": ...} one).
  for (; folder !== path.dirname(folder); folder = path.dirname(folder)) {
    const manifest = path.join(folder, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === specifier) return folder;
  }
  return undefined;
}

/** The marker patches/@tensorflow__tfjs-backend-wasm@4.22.0.patch writes into tfjs-backend-wasm. */
const WASM_PATCH_MARKER = 'food101 patch';

export function checkDependencies(): CheckResult {
  const name = 'install';
  const fix = 'Run `pnpm install` in the repository root';
  const missing = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'sharp', 'onnxruntime-node'].filter(
    (specifier) => packageRoot(specifier) === undefined,
  );
  if (missing.length > 0) {
    return { name, status: 'fail', detail: `not installed: ${missing.join(', ')}`, fix };
  }
  const wasmRoot = packageRoot('@tensorflow/tfjs-backend-wasm')!;
  const nodeBuild = path.join(wasmRoot, 'dist', 'tf-backend-wasm.node.js');
  if (!readFileSync(nodeBuild, 'utf8').includes(WASM_PATCH_MARKER)) {
    return {
      name,
      status: 'fail',
      detail: `${nodeBuild} lacks the pthreads patch (wasm would run on 1 thread)`,
      fix: 'Run `pnpm install` with pnpm 10 (it applies patches/ from pnpm-workspace.yaml); npm and yarn do not',
    };
  }
  return { name, status: 'pass', detail: 'dependencies installed, wasm pthreads patch applied' };
}

export type BindingState = 'present' | 'missing' | 'not-installed';

export function tensorflowBindingState(specifier = '@tensorflow/tfjs-node-gpu'): {
  state: BindingState;
  root?: string;
} {
  const root = packageRoot(specifier);
  if (!root) return { state: 'not-installed' };
  const lib = path.join(root, 'lib');
  const present =
    existsSync(lib) && readdirSync(lib).some((dir) => existsSync(path.join(lib, dir, 'tfjs_binding.node')));
  return { state: present ? 'present' : 'missing', root };
}

export function checkTensorflowBinding(binding: { state: BindingState; root?: string }): CheckResult {
  const name = 'tfjs-node-gpu';
  switch (binding.state) {
    case 'present':
      return { name, status: 'pass', detail: `native binding present (${binding.root})` };
    case 'not-installed':
      return {
        name,
        status: 'fail',
        detail: '@tensorflow/tfjs-node-gpu is not installed (an optional dependency of @food/core)',
        fix: `Run \`pnpm install\`, then: ${GET_BINDING}`,
      };
    case 'missing':
      return {
        name,
        status: 'fail',
        detail: `installed, but its native binding (lib/napi-v*/tfjs_binding.node) is missing: its install script could not download libtensorflow 2.9.1`,
        fix: GET_BINDING,
      };
  }
}
