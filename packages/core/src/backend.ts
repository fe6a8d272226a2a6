/**
 * Chooses and initialises the TensorFlow.js backend, once per process. This is the only module that
 * knows about tfjs-node-gpu / tfjs-node / tfjs-backend-wasm (transformers.js keeps each native
 * dependency in one file the same way): everything else imports `@tensorflow/tfjs` and runs on
 * whatever was chosen here.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from './errors.ts';

export type BackendName = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

export interface BackendInfo {
  name: 'tensorflow' | 'wasm' | 'cpu';
  /** True only when TensorFlow runs its kernels on a CUDA device. */
  gpu: boolean;
  /** Backends tried before `name` and why each could not run. */
  skipped: Array<{ backend: string; reason: string }>;
  /** Threads the wasm backend's XNNPACK pool runs on (1 for the other backends). */
  threads: number;
}

export interface BackendOptions {
  /**
   * Threads for the wasm backend (default: the WASM_THREADS environment variable, else every core).
   * More than 1 runs tfjs's pthreads build, which Node can load through
   * patches/@tensorflow__tfjs-backend-wasm@4.22.0.patch; 1 runs the single-threaded SIMD build.
   * Ignored by the other backends.
   */
  wasmThreads?: number;
}

export class BackendUnavailableError extends UserError {
  override name = 'BackendUnavailableError';
  constructor(message: string) {
    super(message, 'BACKEND_UNAVAILABLE');
  }
}

/** `--backend`'s help: the names, and the alias. */
export const BACKEND_CHOICES_HELP = BACKEND_NAMES.map((name) =>
  name === 'tensorflow' ? 'tensorflow (alias gpu)' : name,
).join(' | ');

/**
 * Parses a `--backend` value. The thrown error carries commander's `invalidArgument` code, so commander
 * prints "option '--backend <name>' argument 'x' is invalid. <message>" and exits 1.
 */
export function parseBackendName(value: string): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  // What people type for "the CUDA one": TensorFlow's backend, which runs on the GPU when one is usable.
  if (value === 'gpu') return 'tensorflow';
  const error = new UserError(
    `Unknown backend "${value}". Choose one of: ${BACKEND_NAMES.join(', ')} (gpu is tensorflow).`,
    'commander.invalidArgument',
  );
  throw Object.assign(error, { exitCode: 1 });
}

/** Imports an optional package by name; injectable so tests can simulate missing or broken packages. */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

const TENSORFLOW_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

const HOW_TO_GET_TENSORFLOW =
  'Run `pnpm setup:tensorflow` (libtensorflow from the TensorFlow wheel on PyPI; `--gpu` for ' +
  '@tensorflow/tfjs-node-gpu), or `pnpm install` again where storage.googleapis.com is reachable ' +
  "(tfjs-node's install script downloads libtensorflow); or use --backend wasm.";

class BackendLoadError extends Error {}

/**
 * tfjs's cpu backend greets its first tensor in Node with a "Hi, looks like you are running TensorFlow.js
 * in Node.js ... install our node backend" banner. This module picks the backend and says why in one line
 * (and evaluate/export run their tensors on cpu on purpose), so the banner only misleads: mark it shown.
 * Done on import, because some commands use tfjs without choosing a backend.
 */
function quietCpuBackendBanner(): void {
  const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}
quietCpuBackendBanner();

let selected: { requested: BackendName; info: Promise<BackendInfo> } | undefined;
let wasmKernelsRegistered = false;

/**
 * Initialises the backend for this process. `auto` tries tfjs-node-gpu, tfjs-node, wasm, then the
 * pure-JS cpu backend, and logs the backend that runs and one line per backend it skipped, with the
 * reason. An explicitly requested backend that cannot run throws `BackendUnavailableError`: falling
 * back silently would turn a 2-hour GPU run into a 3-day CPU run without anyone noticing.
 *
 * Idempotent: a second call with the same name (or `auto`) returns the first result; a second call with
 * a different explicit name switches backends.
 */
export function initBackend(
  requested: BackendName,
  log: (line: string) => void = (line) => process.stderr.write(line + '\n'),
  options: BackendOptions = {},
): Promise<BackendInfo> {
  if (selected && (requested === 'auto' || requested === selected.requested)) return selected.info;
  const info = selectBackend(requested, log, importWithNativeBinding, options);
  selected = { requested, info };
  // A failed selection must not stick: the next call tries again.
  info.catch(() => {
    if (selected?.info === info) selected = undefined;
  });
  return info;
}

/** The selection logic behind `initBackend`, without the per-process cache. Exported for tests. */
export async function selectBackend(
  requested: BackendName,
  log: (line: string) => void,
  importModule: ModuleImporter,
  options: BackendOptions = {},
): Promise<BackendInfo> {
  const order: Array<BackendInfo['name']> =
    requested === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [requested];
  const skipped: BackendInfo['skipped'] = [];
  for (const name of order) {
    try {
      const { gpu, detail, threads = 1 } = await activate(name, importModule, skipped, options);
      log(`backend: ${name}${detail ? ` (${detail})` : ''}${whyNotOthers(skipped, name)}`);
      return { name, gpu, skipped, threads };
    } catch (error) {
      if (!(error instanceof BackendLoadError)) throw error;
      if (name !== 'tensorflow') skipped.push({ backend: name, reason: error.message });
    }
  }
  if (requested === 'auto') {
    // Unreachable in practice (the cpu backend ships with @tensorflow/tfjs), but say why if it happens.
    throw new BackendUnavailableError(
      `No TensorFlow.js backend could start: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}. Reinstall dependencies with \`pnpm install\`.`,
    );
  }
  const reasons = skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
  const advice =
    requested === 'tensorflow'
      ? HOW_TO_GET_TENSORFLOW
      : requested === 'wasm'
        ? 'Reinstall dependencies with `pnpm install`, or use --backend cpu.'
        : 'Reinstall dependencies with `pnpm install`.';
  throw new BackendUnavailableError(`Backend "${requested}" is not available (${reasons}). ${advice}`);
}

async function activate(
  name: BackendInfo['name'],
  importModule: ModuleImporter,
  skipped: BackendInfo['skipped'],
  options: BackendOptions,
): Promise<{ gpu: boolean; detail: string; threads?: number }> {
  switch (name) {
    case 'tensorflow':
      return activateTensorflow(importModule, skipped);
    case 'wasm':
      return activateWasm(
        importModule,
        options.wasmThreads ?? threadsFromEnvironment() ?? availableParallelism(),
      );
    case 'cpu':
      await setBackendOrFail('cpu');
      return { gpu: false, detail: 'pure JavaScript, slowest' };
  }
}

/**
 * Imports an optional package, but a tfjs-node(-gpu) whose native binding was never downloaded is
 * refused before its JavaScript runs: importing it anyway registers ~150 'tensorflow' kernels on the
 * shared tfjs instance before it fails, and the second package then warns about each of them.
 */
async function importWithNativeBinding(specifier: string): Promise<unknown> {
  if ((TENSORFLOW_PACKAGES as readonly string[]).includes(specifier)) {
    let packageRoot: string;
    try {
      packageRoot = path.dirname(createRequire(import.meta.url).resolve(`${specifier}/package.json`));
    } catch {
      throw Object.assign(new Error(`Cannot find package '${specifier}'`), { code: 'ERR_MODULE_NOT_FOUND' });
    }
    const lib = path.join(packageRoot, 'lib');
    const hasBinding =
      existsSync(lib) && readdirSync(lib).some((dir) => existsSync(path.join(lib, dir, 'tfjs_binding.node')));
    if (!hasBinding) throw new Error(`${path.join(lib, 'napi-v*', 'tfjs_binding.node')} not found`);
  }
  return import(specifier);
}

/**
 * TensorFlow's C++ log prints lines at every start that ask nothing of the user ("oneDNN custom operations
 * are on", "This TensorFlow binary is optimized to use available CPU instructions"). Level 2 hides its
 * INFO and WARNING lines and keeps errors. The library reads the variable when it loads, so it is set
 * before the import; a value the user set (0 to see CUDA libraries being loaded) wins.
 */
function quietTensorflowStartLogs(env: NodeJS.ProcessEnv = process.env): void {
  env.TF_CPP_MIN_LOG_LEVEL ??= '2';
}

/** The package that registered the running tensorflow backend. */
let activeTensorflowPackage: (typeof TENSORFLOW_PACKAGES)[number] | undefined;

/** What the trainer uses of tfjs-node's own `tf.node` API: TensorFlow's TensorBoard summary writer. */
export interface TensorflowNodeApi {
  summaryFileWriter(logdir: string): {
    scalar(name: string, value: number, step: number): void;
    flush(): void;
  };
}

/** tfjs-node's `tf.node` while the tensorflow backend runs; undefined on wasm and cpu. */
export async function tensorflowNodeApi(): Promise<TensorflowNodeApi | undefined> {
  if (!activeTensorflowPackage || tf.getBackend() !== 'tensorflow') return undefined;
  const loaded = (await import(activeTensorflowPackage)) as { node: TensorflowNodeApi };
  return loaded.node;
}

/** Whether the active backend is tensorflow running on a CUDA device (false on any other backend). */
export function tensorflowUsesGpu(): boolean {
  return (
    tf.getBackend() === 'tensorflow' &&
    (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true
  );
}

/** tfjs-node-gpu first (CUDA), then tfjs-node (TensorFlow's CPU kernels); both register 'tensorflow'. */
async function activateTensorflow(
  importModule: ModuleImporter,
  skipped: BackendInfo['skipped'],
): Promise<{ gpu: boolean; detail: string }> {
  quietTensorflowStartLogs();
  for (const specifier of TENSORFLOW_PACKAGES) {
    if (!tf.findBackendFactory('tensorflow')) {
      try {
        await importModule(specifier);
      } catch (error) {
        skipped.push({ backend: `tensorflow (${specifier})`, reason: describeImportError(specifier, error) });
        continue;
      }
    }
    await setBackendOrFail('tensorflow');
    activeTensorflowPackage = specifier;
    const gpu = tensorflowUsesGpu();
    const detail = gpu
      ? 'CUDA GPU'
      : specifier.endsWith('-gpu')
        ? 'CPU: tfjs-node-gpu loaded but TensorFlow found no usable CUDA device'
        : 'CPU';
    return { gpu, detail };
  }
  throw new BackendLoadError('neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node could load');
}

/**
 * WASM_THREADS: the wasm thread count where no flag sets it (containers, test runs of tiny models,
 * whose ops are too small for a thread pool to pay off).
 */
function threadsFromEnvironment(): number | undefined {
  const value = process.env.WASM_THREADS;
  if (value === undefined || value === '') return undefined;
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new UserError(
      `WASM_THREADS must be a whole number ≥ 1, got "${value}". Unset it to use every core.`,
    );
  }
  return threads;
}

/** The part of @tensorflow/tfjs-backend-wasm's exports used here. */
interface WasmPackage {
  setThreadsCount?(threads: number): void;
  getThreadsCount?(): number;
}

async function activateWasm(
  importModule: ModuleImporter,
  requestedThreads: number,
): Promise<{ gpu: boolean; detail: string; threads: number }> {
  if (!Number.isInteger(requestedThreads) || requestedThreads < 1) {
    throw new UserError(`wasm threads must be a whole number ≥ 1, got ${requestedThreads}.`);
  }
  let wasmPackage: WasmPackage;
  try {
    wasmPackage = (await importModule('@tensorflow/tfjs-backend-wasm')) as WasmPackage;
  } catch (error) {
    throw new BackendLoadError(describeImportError('@tensorflow/tfjs-backend-wasm', error));
  }
  // tfjs turns the pthreads build off in Node (its workers are Blob URLs); the patch loads them with
  // worker_threads instead. One thread skips the build and its 8 pre-started workers altogether.
  const threaded = requestedThreads > 1;
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', threaded);
  if (threaded) wasmPackage.setThreadsCount?.(requestedThreads);
  const training = await registerWasmTrainingKernelsIfPresent();
  await setBackendOrFail('wasm');
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  const threads = threaded ? (wasmPackage.getThreadsCount?.() ?? 1) : 1;
  return {
    gpu: false,
    threads,
    detail: `${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'}${training ? '' : ', inference only: training kernels not present'}`,
  };
}

/** The wasm backend lacks Conv2DBackpropFilter & co.; ./wasm/wasm-kernels.ts adds them. */
async function registerWasmTrainingKernelsIfPresent(): Promise<boolean> {
  if (wasmKernelsRegistered) return true;
  try {
    const kernels = await import('./wasm/wasm-kernels.ts');
    kernels.registerWasmTrainingKernels();
    wasmKernelsRegistered = true;
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return false;
    throw error;
  }
}

async function setBackendOrFail(name: string): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (error) {
    throw new BackendLoadError(`initialisation failed: ${firstLine(error)}`);
  }
  if (!ok || tf.getBackend() !== name) throw new BackendLoadError('initialisation failed');
}

/**
 * The part of the backend line that says why the backends tried first are not used: one line in all,
 * with a reason the TensorFlow packages share said once ("A and B each is installed but ...").
 */
export function whyNotOthers(skipped: BackendInfo['skipped'], chosen: BackendInfo['name']): string {
  const groups = new Map<string, { backend: string; packages: string[]; rest: string }>();
  for (const { backend, reason } of skipped) {
    const [name, specifier] = [backend.split(' ')[0]!, /\((.+)\)$/.exec(backend)?.[1]];
    // describeImportError's reasons about a package start with its name.
    const rest =
      specifier && reason.startsWith(`${specifier} `) ? reason.slice(specifier.length + 1) : reason;
    const key = `${name}|${specifier ? rest : reason}`;
    const group = groups.get(key) ?? { backend: name, packages: [], rest };
    if (specifier) group.packages.push(specifier);
    groups.set(key, group);
  }
  const parts = [...groups.values()].map(({ backend, packages, rest }) => {
    if (packages.length === 0) return `not ${backend}: ${rest}`;
    // tensorflow through tfjs-node after tfjs-node-gpu failed: name the package, not the backend it chose.
    if (backend === chosen)
      return `not ${packages.join(' or ')}, which ${packages.length > 1 ? 'each ' : ''}${rest}`;
    const subject = packages.length === 1 ? packages[0] : `${packages.join(' and ')} each`;
    return `not ${backend}: ${subject} ${rest}`;
  });
  return parts.length > 0 ? `, ${parts.join('; ')}` : '';
}

function describeImportError(specifier: string, error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = firstLine(error);
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
    return `${specifier} is not installed`;
  }
  if (message.includes('tfjs_binding.node')) {
    return `${specifier} is installed but its native binding is missing (its install script could not download libtensorflow)`;
  }
  if (/lib(cudart|cudnn|cublas|cufft|curand|cusolver|cusparse|nvinfer)/.test(message)) {
    return `CUDA/cuDNN libraries could not be loaded (${message})`;
  }
  return message;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.trim();
}
