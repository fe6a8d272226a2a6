#!/usr/bin/env -S npx tsx
/**
 * `pnpm setup:tensorflow [--gpu]`: makes the `tensorflow` backend run from PyPI alone. It takes libtensorflow
 * from TensorFlow's wheel and, with --gpu, the NVIDIA CUDA wheels that release's and-cuda extra pins, builds
 * tfjs-node's binding against it and runs one op, so a GPU host needs only its driver. What works and what
 * does not: docs/tensorflow-backend.md and docs/gpu.md.
 */
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '@food/core/errors';
import { runCommandLine } from '@food/core/run-command-line';
import { Command } from 'commander';
import { downloadResumable, sha256File } from '../data/download.ts';
import { bindingLocation, buildBinding, nodeHeadersDir } from './tensorflow-setup/build-binding.ts';
import { checkBinding } from './tensorflow-setup/check-binding.ts';
import { libraryKernels } from './tensorflow-setup/cuda-kernels.ts';
import {
  type CudaWheel,
  fetchRequiresDist,
  findCudaWheels,
  parseRequiresDist,
  SKIPPED_CUDA_PROJECTS,
} from './tensorflow-setup/cuda-requirements.ts';
import {
  extractCudaLibraries,
  linkNvrtcForCudnn,
  readWheelMetadata,
} from './tensorflow-setup/cuda-wheel-contents.ts';
import {
  PROVENANCE_FILE,
  type Provenance,
  type ProvisionedCuda,
  readProvenance,
} from './tensorflow-setup/provenance.ts';
import { findLinuxWheel, type WheelFile } from './tensorflow-setup/pypi-wheel.ts';
import { bindingIncludes, extractLibtensorflow } from './tensorflow-setup/wheel-contents.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CACHE_DIR = path.join(REPO_ROOT, 'node_modules/.cache/setup-tensorflow');

/**
 * TensorFlow 2.21.0, the newest release on PyPI, for both routes, so CPU and GPU run one libtensorflow:
 * its C API still serves the tfjs-node 4.22 binding (built for 2.9.1), the tensorflow-backend tests pass
 * on it, and its GPU build is CUDA 12.5 / cuDNN 9.3 with machine code for Hopper (docs/gpu.md). Wheels
 * before 2.12 keep the C API inside a Python extension that cannot load in Node (wheel-contents.ts).
 */
export const DEFAULT_TENSORFLOW_VERSION = '2.21.0';

export interface SetupOptions {
  gpu: boolean;
  tensorflow: string;
  wheel?: string;
  force: boolean;
  log: (line: string) => void;
}

/** The package to provision and where its binding and libraries live. */
interface Target {
  specifier: string;
  packageRoot: string;
  depsDir: string;
  bindingFile: string;
  napiVersion: number;
}

export async function setupTensorflow(options: SetupOptions): Promise<void> {
  const { log } = options;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new UserError(
      `setup:tensorflow supports Linux x86-64 only (this is ${process.platform} ${process.arch}); elsewhere tfjs-node's own install downloads libtensorflow.`,
    );
  }
  const target = await resolveTarget(options.gpu);
  const wheelSha256 = options.wheel ? await sha256File(options.wheel) : undefined;
  if (!options.force && (await alreadyProvisioned(target, options, wheelSha256))) return;

  const wheels = await downloadWheels(options, wheelSha256);
  // From here until the check passes there is no binding: a run that fails half-way leaves the package
  // as the failed install did (tests skip, `auto` uses wasm), never a binding without its libraries.
  await rm(target.bindingFile, { force: true });
  log(
    `setup: extracting libtensorflow from ${path.basename(wheels.tensorflowPath)} into ${path.relative(REPO_ROOT, target.depsDir)}`,
  );
  const extracted = await extractLibtensorflow(
    wheels.tensorflowPath,
    target.depsDir,
    await bindingIncludes(target.packageRoot),
  );
  log(`setup: ${formatMiB(extracted.libraryBytes)} of libraries, ${extracted.headers} C API headers`);
  const cuda = wheels.cuda ? await unpackCuda(wheels.cuda, target.depsDir, log) : undefined;

  const started = Date.now();
  log(`setup: building ${target.specifier}'s binding with node-gyp (a few seconds per core)`);
  await buildBinding(target.packageRoot, await nodeHeadersDir(CACHE_DIR, log));
  log(
    `setup: built ${path.relative(REPO_ROOT, target.bindingFile)} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );

  const check = await checkBinding(target.packageRoot).catch(async (error: unknown) => {
    await rm(target.bindingFile, { force: true });
    throw error;
  });
  const provenance: Provenance = {
    ...wheels.tensorflow,
    napiVersion: target.napiVersion,
    tensorflowVersion: check.tensorflowVersion,
    ...(cuda && { cuda }),
  };
  await writeFile(path.join(target.depsDir, PROVENANCE_FILE), `${JSON.stringify(provenance, null, 2)}\n`);
  // Their libraries are in deps/ now; a wheel given with --wheel is the user's and stays.
  const downloaded = [
    ...(options.wheel ? [] : [wheels.tensorflowPath]),
    ...(wheels.cuda ?? []).map((w) => w.path),
  ];
  await Promise.all(downloaded.map((file) => rm(file, { force: true })));
  log(
    `setup: ok: ${target.specifier} ran matMul on TensorFlow ${check.tensorflowVersion} (${check.gpu ? 'CUDA GPU' : 'CPU'}); ` +
      `\`--backend tensorflow\` is available.${cuda ? ` Check the CUDA stack with \`pnpm run doctor\`.` : ''}`,
  );
}

async function resolveTarget(gpu: boolean): Promise<Target> {
  const specifier = gpu ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  const packageRoot = resolvePackageRoot(specifier);
  const { napiVersion, file: bindingFile } = await bindingLocation(packageRoot);
  return { specifier, packageRoot, depsDir: path.join(packageRoot, 'deps'), bindingFile, napiVersion };
}

/**
 * Decided before asking PyPI, so a provisioned machine needs no network to say it is done: the same
 * wheel (and, for the GPU, its CUDA libraries still in place) and a binding that runs an op.
 */
async function alreadyProvisioned(
  target: Target,
  options: SetupOptions,
  wheelSha256?: string,
): Promise<boolean> {
  const previous = await readProvenance(target.depsDir);
  if (!previous || previous.napiVersion !== target.napiVersion || !existsSync(target.bindingFile))
    return false;
  const project = options.gpu ? 'tensorflow' : 'tensorflow-cpu';
  const sameWheel = wheelSha256
    ? previous.sha256 === wheelSha256
    : previous.wheel.startsWith(`${project.replaceAll('-', '_')}-${options.tensorflow}-`);
  const cudaInPlace =
    !options.gpu ||
    (previous.cuda?.libraries.every((library) => existsSync(path.join(target.depsDir, library))) ?? false);
  if (!sameWheel || !cudaInPlace) return false;
  const check = await checkBinding(target.packageRoot).catch(() => undefined);
  if (!check) return false;
  const cuda = previous.cuda ? ` and ${previous.cuda.wheels.length} CUDA wheels` : '';
  options.log(
    `setup: ${target.specifier} already runs TensorFlow ${check.tensorflowVersion} from ${previous.wheel}${cuda}; nothing to do (--force rebuilds).`,
  );
  return true;
}

interface DownloadedWheels {
  tensorflow: { wheel: string; sha256: string };
  tensorflowPath: string;
  cuda?: Array<CudaWheel & { path: string }>;
}

/**
 * TensorFlow's wheel and, for the GPU, the NVIDIA wheels its and-cuda extra pins: the total said before
 * the first byte (when PyPI's JSON API knows the release's requirements; else after TensorFlow's wheel,
 * from its METADATA), each download resumable and checked against PyPI's sha256.
 */
async function downloadWheels(options: SetupOptions, wheelSha256?: string): Promise<DownloadedWheels> {
  const { log } = options;
  const project = options.gpu ? 'tensorflow' : 'tensorflow-cpu';
  const tensorflow: WheelFile | undefined =
    options.wheel && wheelSha256 ? undefined : await findLinuxWheel(project, options.tensorflow);
  let cuda =
    options.gpu && tensorflow
      ? await fetchRequiresDist(project, options.tensorflow).then(
          (requires) => requires && findCudaWheels(requires),
        )
      : undefined;
  const planned = [...(tensorflow ? [tensorflow] : []), ...(cuda ?? [])];
  log(
    `setup: ${planned.length} wheel${planned.length === 1 ? '' : 's'} to download from PyPI, ${formatMiB(planned.reduce((sum, wheel) => sum + wheel.size, 0))} in all` +
      (options.gpu && !cuda ? ' (the CUDA wheels follow once the TensorFlow wheel says which)' : ''),
  );
  const tensorflowPath = options.wheel ?? (await download(tensorflow!, log));
  if (options.gpu && !cuda) {
    cuda = await findCudaWheels(parseRequiresDist(await readWheelMetadata(tensorflowPath)));
    log(
      `setup: ${cuda.length} CUDA wheels, ${formatMiB(cuda.reduce((sum, wheel) => sum + wheel.size, 0))} more`,
    );
  }
  const cudaPaths: Array<CudaWheel & { path: string }> = [];
  for (const wheel of cuda ?? []) cudaPaths.push({ ...wheel, path: await download(wheel, log) });
  return {
    tensorflow: tensorflow
      ? { wheel: tensorflow.filename, sha256: tensorflow.sha256 }
      : { wheel: path.basename(tensorflowPath), sha256: wheelSha256! },
    tensorflowPath,
    ...(options.gpu && { cuda: cudaPaths }),
  };
}

/** Unpacks the CUDA wheels under deps/nvidia and reads which GPUs libtensorflow has kernels for. */
async function unpackCuda(
  wheels: Array<CudaWheel & { path: string }>,
  depsDir: string,
  log: (line: string) => void,
): Promise<ProvisionedCuda> {
  const libraries: string[] = [];
  let bytes = 0;
  for (const wheel of wheels) {
    const extracted = await extractCudaLibraries(wheel.path, depsDir);
    libraries.push(...extracted.libraries);
    bytes += extracted.bytes;
  }
  await linkNvrtcForCudnn(depsDir);
  log(
    `setup: ${formatMiB(bytes)} of CUDA libraries (${wheels.map((w) => `${w.project} ${w.version}`).join(', ')}) into ${path.relative(REPO_ROOT, path.join(depsDir, 'nvidia'))}` +
      `; not needed by tfjs-node: ${Object.keys(SKIPPED_CUDA_PROJECTS).join(', ')}`,
  );
  const kernels = await libraryKernels(
    ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'].map((file) => path.join(depsDir, 'lib', file)),
  );
  log(
    `setup: libtensorflow has machine code for compute capabilities ${kernels.sass.join(', ')}` +
      (kernels.ptx.length
        ? ` and PTX for ${kernels.ptx.join(', ')} (newer GPUs compile it at start-up)`
        : ''),
  );
  const wheelsRecord = wheels.map(({ project, version, filename, sha256 }) => ({
    project,
    version,
    filename,
    sha256,
  }));
  return { wheels: wheelsRecord, libraries, kernels };
}

async function download(wheel: WheelFile, log: (line: string) => void): Promise<string> {
  log(`setup: downloading ${wheel.filename} (${formatMiB(wheel.size)}) from PyPI`);
  const started = Date.now();
  const dest = path.join(CACHE_DIR, wheel.filename);
  try {
    await downloadResumable({ url: wheel.url, dest, expectedSha256: wheel.sha256 });
  } catch (error) {
    if ((error as UserError).code !== 'DOWNLOAD_UNREACHABLE') throw error;
    throw new UserError(
      `PyPI's file host is not reachable (${(error as Error).message.split(';')[0]}): cannot download TensorFlow. ` +
        'Run again where it is, or pass --wheel FILE with the wheel downloaded elsewhere.',
      'PYPI_UNREACHABLE',
    );
  }
  log(`setup: downloaded and verified (sha256) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return dest;
}

function resolvePackageRoot(specifier: string): string {
  // @food/core owns tfjs-node as an optional dependency; pnpm only links it there.
  const requireFromCore = createRequire(path.join(REPO_ROOT, 'packages/core/package.json'));
  try {
    return path.dirname(requireFromCore.resolve(`${specifier}/package.json`));
  } catch {
    throw new UserError(`${specifier} is not installed. Run \`pnpm install\` first.`);
  }
}

function formatMiB(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

export function buildSetupProgram(): Command {
  return new Command('setup:tensorflow')
    .description(
      "Provision tfjs-node's libtensorflow from TensorFlow's wheel on PyPI, build its binding and check it with one op.",
    )
    .option(
      '--gpu',
      'provision @tensorflow/tfjs-node-gpu from the `tensorflow` wheel and the NVIDIA CUDA wheels its and-cuda extra pins (a host then needs only the NVIDIA driver)',
      false,
    )
    .option(
      '--tensorflow <version>',
      'TensorFlow release whose wheel to use (2.12.0 or newer)',
      DEFAULT_TENSORFLOW_VERSION,
    )
    .option('--wheel <file>', 'use this wheel file instead of downloading one (an offline machine)')
    .option('--force', 'rebuild even when the package already runs the wanted wheel', false)
    .exitOverride()
    .action(async (flags: Omit<SetupOptions, 'log'>) => {
      await setupTensorflow({ ...flags, log: (line) => process.stderr.write(`${line}\n`) });
    });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1]))
  await runCommandLine(buildSetupProgram(), process.argv);
