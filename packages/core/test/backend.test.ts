import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  BackendUnavailableError,
  initBackend,
  type ModuleImporter,
  parseBackendName,
  selectBackend,
  whyNotOthers,
} from '../src/backend.ts';

const notInstalled = (specifier: string) =>
  Object.assign(new Error(`Cannot find package '${specifier}'`), { code: 'ERR_MODULE_NOT_FOUND' });

/** tfjs-node-gpu installed without its native binding (what a failed install script leaves), no tfjs-node. */
const withoutTensorflow: ModuleImporter = async (specifier) => {
  if (specifier === '@tensorflow/tfjs-node-gpu') {
    throw new Error(
      'The Node.js native addon module (tfjs_binding.node) can not be found at path: /x/lib/napi-v8/tfjs_binding.node.\nPlease run command ...',
    );
  }
  if (specifier === '@tensorflow/tfjs-node') throw notInstalled(specifier);
  return import(specifier);
};

/** Runs `use` with WASM_THREADS set to `value` (unset for undefined), then restores it. */
async function withWasmThreadsVariable<T>(value: string | undefined, use: () => Promise<T>): Promise<T> {
  const before = process.env.WASM_THREADS;
  const set = (next: string | undefined) => {
    if (next === undefined) delete process.env.WASM_THREADS;
    else process.env.WASM_THREADS = next;
  };
  set(value);
  try {
    return await use();
  } finally {
    set(before);
  }
}

describe('parseBackendName', () => {
  it('accepts the four names', () => {
    for (const name of ['auto', 'tensorflow', 'wasm', 'cpu']) expect(parseBackendName(name)).toBe(name);
  });

  it('reads gpu as tensorflow (the backend that runs on CUDA)', () => {
    expect(parseBackendName('gpu')).toBe('tensorflow');
  });

  it('rejects others with a commander invalid-argument error listing the choices', () => {
    expect(() => parseBackendName('cuda')).toThrowError(
      /Unknown backend "cuda".*auto, tensorflow, wasm, cpu/,
    );
    let caught: unknown;
    try {
      parseBackendName('webgl');
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'commander.invalidArgument', exitCode: 1 });
  });
});

describe('selectBackend', () => {
  it('auto skips unusable TensorFlow packages, says why, and runs on wasm', async () => {
    const lines: string[] = [];
    // The test run sets WASM_THREADS=1 (vitest.config.ts); without it wasm uses every core.
    const info = await withWasmThreadsVariable(undefined, () =>
      selectBackend('auto', (line) => lines.push(line), withoutTensorflow),
    );
    expect(info.name).toBe('wasm');
    expect(info.gpu).toBe(false);
    expect(tf.getBackend()).toBe('wasm');
    expect(info.skipped).toEqual([
      {
        backend: 'tensorflow (@tensorflow/tfjs-node-gpu)',
        reason: expect.stringMatching(/native binding is missing/),
      },
      { backend: 'tensorflow (@tensorflow/tfjs-node)', reason: '@tensorflow/tfjs-node is not installed' },
    ]);
    // One line: the backend, then why the ones tried first are not used.
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^backend: wasm \\((no )?SIMD, ${info.threads} threads?\\), not tensorflow: @tensorflow/tfjs-node-gpu is installed but its native binding is missing .*; not tensorflow: @tensorflow/tfjs-node is not installed$`,
        ),
      ),
    ]);
    // Every core by default; tfjs caps its thread pool at 8.
    expect(info.threads).toBe(Math.min(availableParallelism(), 8));
  });

  it('auto falls through to cpu when wasm cannot load either', async () => {
    const lines: string[] = [];
    const importer: ModuleImporter = async (specifier) => {
      if (specifier === '@tensorflow/tfjs-backend-wasm') throw notInstalled(specifier);
      return withoutTensorflow(specifier);
    };
    const info = await selectBackend('auto', (line) => lines.push(line), importer);
    expect(info.name).toBe('cpu');
    expect(info.skipped.map((s) => s.backend)).toEqual([
      'tensorflow (@tensorflow/tfjs-node-gpu)',
      'tensorflow (@tensorflow/tfjs-node)',
      'wasm',
    ]);
    expect(lines).toEqual([
      expect.stringMatching(/^backend: cpu .*; not wasm: @tensorflow\/tfjs-backend-wasm is not installed$/),
    ]);
  });

  it('says a reason both TensorFlow packages share once, in the one backend line', async () => {
    const lines: string[] = [];
    const bindingMissing: ModuleImporter = async (specifier) => {
      if (specifier.startsWith('@tensorflow/tfjs-node'))
        throw new Error(`${specifier}/lib/napi-v8/tfjs_binding.node not found`);
      return import(specifier);
    };
    await withWasmThreadsVariable('1', () =>
      selectBackend('auto', (line) => lines.push(line), bindingMissing),
    );
    expect(lines).toEqual([
      expect.stringMatching(
        /^backend: wasm \(.*\), not tensorflow: @tensorflow\/tfjs-node-gpu and @tensorflow\/tfjs-node each is installed but its native binding is missing \(its install script could not download libtensorflow\)$/,
      ),
    ]);
  });

  it('names the package, not the backend, when tensorflow runs through tfjs-node after tfjs-node-gpu failed', () => {
    const skipped = [
      {
        backend: 'tensorflow (@tensorflow/tfjs-node-gpu)',
        reason: '@tensorflow/tfjs-node-gpu is installed but its native binding is missing (no download)',
      },
    ];
    expect(whyNotOthers(skipped, 'tensorflow')).toBe(
      ', not @tensorflow/tfjs-node-gpu, which is installed but its native binding is missing (no download)',
    );
    expect(whyNotOthers(skipped, 'wasm')).toBe(
      ', not tensorflow: @tensorflow/tfjs-node-gpu is installed but its native binding is missing (no download)',
    );
  });

  it('refuses a WASM_THREADS that is not a whole number of threads, saying how to fix it', async () => {
    await withWasmThreadsVariable('all', () =>
      expect(selectBackend('wasm', () => {}, withoutTensorflow)).rejects.toThrowError(
        /WASM_THREADS must be a whole number ≥ 1, got "all"\. Unset it/,
      ),
    );
  });

  it('an explicitly requested backend that cannot run is an error that says what to do, not a fallback', async () => {
    const before = tf.getBackend();
    const attempt = selectBackend('tensorflow', () => {}, withoutTensorflow);
    await expect(attempt).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(attempt).rejects.toThrowError(/native binding is missing/);
    await expect(attempt).rejects.toThrowError(
      /pnpm setup:tensorflow.*storage\.googleapis\.com.*--backend wasm/s,
    );
    expect(tf.getBackend()).toBe(before);
  });
});

describe('initBackend', () => {
  it('selects cpu and wasm explicitly, switches between them, and is idempotent', async () => {
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    expect((await initBackend('cpu', log)).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect((await initBackend('wasm', log)).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const logged = lines.length;
    expect((await initBackend('wasm', log)).name).toBe('wasm');
    expect((await initBackend('auto', log)).name).toBe('wasm');
    expect(lines.length).toBe(logged);
    expect(tf.tidy(() => tf.add(tf.tensor1d([1, 2]), 1).arraySync())).toEqual([2, 3]);
    expect((await initBackend('cpu', log)).name).toBe('cpu');
  });
});

describe("tfjs's Node banner", () => {
  it('is not printed once this module is loaded, even on the cpu backend', () => {
    // A fresh process: the banner prints once per process, on the cpu backend's first tensor.
    const script = `
      await import('@food/core/backend');
      const tf = await import('@tensorflow/tfjs');
      await tf.setBackend('cpu');
      tf.tensor1d([1, 2]).dataSync();
      console.error('tensor made');`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: path.resolve(import.meta.dirname, '..'),
      encoding: 'utf8',
    });
    expect(run.stderr).toContain('tensor made');
    expect(run.stderr).not.toMatch(/looks like you are running TensorFlow\.js in Node\.js/);
  });
});

describe("TensorFlow's C++ start-up lines", () => {
  /** Runs initBackend('tensorflow') in a fresh process (TensorFlow reads the variable once, when it loads). */
  function startTensorflow(logLevel: string | undefined) {
    const script = `
      const { initBackend } = await import('@food/core/backend');
      const info = await initBackend('tensorflow', () => {}).catch((error) => ({ name: error.message }));
      const tf = await import('@tensorflow/tfjs');
      if (info.name === 'tensorflow') tf.matMul(tf.ones([8, 8]), tf.ones([8, 8])).dataSync();
      console.error('backend=' + info.name + ' tf=' + (tf.backend().binding?.TF_Version ?? ''));`;
    const env = { ...process.env };
    delete env.TF_CPP_MIN_LOG_LEVEL;
    if (logLevel !== undefined) env.TF_CPP_MIN_LOG_LEVEL = logLevel;
    return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: path.resolve(import.meta.dirname, '..'),
      encoding: 'utf8',
      env,
    }).stderr;
  }
  const infoLines = /oneDNN custom operations are on|This TensorFlow binary is optimized/;

  it('are set to level 2 before tfjs-node loads, unless the user set a level', async () => {
    const before = process.env.TF_CPP_MIN_LOG_LEVEL;
    const seen: Array<string | undefined> = [];
    const recording: ModuleImporter = async (specifier) => {
      if (specifier.startsWith('@tensorflow/tfjs-node')) {
        seen.push(process.env.TF_CPP_MIN_LOG_LEVEL);
        throw notInstalled(specifier);
      }
      return import(specifier);
    };
    try {
      delete process.env.TF_CPP_MIN_LOG_LEVEL;
      await selectBackend('tensorflow', () => {}, recording).catch(() => {});
      process.env.TF_CPP_MIN_LOG_LEVEL = '0';
      await selectBackend('tensorflow', () => {}, recording).catch(() => {});
    } finally {
      if (before === undefined) delete process.env.TF_CPP_MIN_LOG_LEVEL;
      else process.env.TF_CPP_MIN_LOG_LEVEL = before;
    }
    expect(seen).toEqual(['2', '2', '0', '0']);
  });

  it('are not printed when the tensorflow backend starts (where tfjs-node is provisioned)', (context) => {
    const quiet = startTensorflow(undefined);
    if (!quiet.includes('backend=tensorflow')) {
      context.skip('the tensorflow backend is not provisioned here (run `pnpm setup:tensorflow`)');
    }
    // TensorFlow 2.21 (`pnpm setup:tensorflow --gpu`) logs through absl: what it logs before
    // absl::InitializeLog() runs, the oneDNN notice, ignores TF_CPP_MIN_LOG_LEVEL; every later line obeys it.
    const absl = /tf=2\.(2[1-9]|[3-9]\d)\b/.test(quiet);
    const beforeAbslInit = /^.*(absl::InitializeLog|oneDNN custom operations are on).*\n/gm;
    expect(absl ? quiet.replace(beforeAbslInit, '') : quiet).not.toMatch(infoLines);
    // Not vacuous: with the user's TF_CPP_MIN_LOG_LEVEL=0 this TensorFlow does print them.
    expect(startTensorflow('0')).toMatch(infoLines);
  });
});
