import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Why the `tensorflow` backend cannot run here, or undefined when tfjs-node(-gpu) has a native binding
 * (`pnpm setup:tensorflow` builds one). A binding that exists but fails to load is not a reason to
 * skip: the tests then fail, as they should.
 */
export function tensorflowSkipReason(): string | undefined {
  const requireFromCore = createRequire(path.resolve(import.meta.dirname, '../../package.json'));
  for (const specifier of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    let lib: string;
    try {
      lib = path.join(path.dirname(requireFromCore.resolve(`${specifier}/package.json`)), 'lib');
    } catch {
      continue;
    }
    if (
      existsSync(lib) &&
      readdirSync(lib).some((dir) => existsSync(path.join(lib, dir, 'tfjs_binding.node')))
    ) {
      return undefined;
    }
  }
  return 'the tensorflow backend is not provisioned here (run `pnpm setup:tensorflow`)';
}

/** A test title that says, when skipped, why. */
export function titleFor(title: string, skipReason: string | undefined): string {
  return skipReason ? `${title} (skipped: ${skipReason})` : title;
}
