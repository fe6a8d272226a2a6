#!/usr/bin/env -S npx tsx
/**
 * `pnpm setup:tensorflow`: makes the `tensorflow` backend run where tfjs-node's install script could not
 * download libtensorflow. It takes libtensorflow from TensorFlow's wheel on PyPI, builds the binding
 * against it and runs one op. What works and what does not: docs/tensorflow-backend.md.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '@food/core/errors';
import { runCommandLine } from '@food/core/run-command-line';
import { Command } from 'commander';
import { downloadResumable, sha256File } from '../data/download.ts';
import { bindingLocation, buildBinding, nodeHeadersDir } from './tensorflow-setup/build-binding.ts';
import { checkBinding } from './tensorflow-setup/check-binding.ts';
import { findLinuxWheel, type WheelFile } from './tensorflow-setup/pypi-wheel.ts';
import { bindingIncludes, extractLibtensorflow } from './tensorflow-setup/wheel-contents.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CACHE_DIR = path.join(REPO_ROOT, 'node_modules/.cache/setup-tensorflow');

/**
 * The oldest TensorFlow whose wheel carries a C API that loads without Python (see wheel-contents.ts);
 * tfjs-node 4.22 was built for 2.9.1, whose C API 2.12 still serves.
 */
export const DEFAULT_TENSORFLOW_VERSION = '2.12.0';

export interface SetupOptions {
  gpu: boolean;
  tensorflow: string;
  wheel?: string;
  force: boolean;
  log: (line: string) => void;
}

/** What a provisioned package records in deps/, so a second run can tell it has nothing to do. */
interface Provenance {
  wheel: string;
  sha256: string;
  napiVersion: number;
}

export async function setupTensorflow(options: SetupOptions): Promise<void> {
  const { log } = options;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new UserError(
      `setup:tensorflow supports Linux x86-64 only (this is ${process.platform} ${process.arch}); elsewhere tfjs-node's own install downloads libtensorflow.`,
    );
  }
  const specifier = options.gpu ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  const packageRoot = resolvePackageRoot(specifier);
  const depsDir = path.join(packageRoot, 'deps');
  const provenanceFile = path.join(depsDir, 'setup-tensorflow.json');
  const { napiVersion, file: bindingFile } = await bindingLocation(packageRoot);

  const project = options.gpu ? 'tensorflow' : 'tensorflow-cpu';
  const wheelSha256 = options.wheel ? await sha256File(options.wheel) : undefined;
  // Decided before asking PyPI, so a provisioned machine needs no network to say it is done.
  const previous = await readProvenance(provenanceFile);
  const sameWheel = wheelSha256
    ? previous?.sha256 === wheelSha256
    : previous?.wheel.startsWith(`${project.replaceAll('-', '_')}-${options.tensorflow}-`);
  if (!options.force && sameWheel && previous?.napiVersion === napiVersion && existsSync(bindingFile)) {
    const check = await checkBinding(packageRoot).catch(() => undefined);
    if (check) {
      log(
        `setup: ${specifier} already runs TensorFlow ${check.tensorflowVersion} from ${previous.wheel}; nothing to do (--force rebuilds).`,
      );
      return;
    }
  }

  const wanted =
    options.wheel && wheelSha256
      ? { filename: path.basename(options.wheel), sha256: wheelSha256 }
      : await findLinuxWheel(project, options.tensorflow);
  const wheelPath = options.wheel ?? (await download(wanted as WheelFile, log));
  // From here until the check passes there is no binding: a run that fails half-way leaves the package
  // as the failed install did (tests skip, `auto` uses wasm), never a binding without its libraries.
  await rm(bindingFile, { force: true });
  log(
    `setup: extracting libtensorflow from ${path.basename(wheelPath)} into ${path.relative(REPO_ROOT, depsDir)}`,
  );
  const extracted = await extractLibtensorflow(wheelPath, depsDir, await bindingIncludes(packageRoot));
  log(`setup: ${formatMiB(extracted.libraryBytes)} of libraries, ${extracted.headers} C API headers`);

  const started = Date.now();
  log(`setup: building ${specifier}'s binding with node-gyp (a few seconds per core)`);
  await buildBinding(packageRoot, await nodeHeadersDir(CACHE_DIR, log));
  log(
    `setup: built ${path.relative(REPO_ROOT, bindingFile)} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );

  const check = await checkBinding(packageRoot).catch(async (error: unknown) => {
    await rm(bindingFile, { force: true });
    throw error;
  });
  const provenance: Provenance = { wheel: wanted.filename, sha256: wanted.sha256, napiVersion };
  await writeFile(provenanceFile, `${JSON.stringify(provenance, null, 2)}\n`);
  if (!options.wheel) await rm(wheelPath, { force: true }); // its libraries are in deps/ now
  log(
    `setup: ok: ${specifier} ran matMul on TensorFlow ${check.tensorflowVersion} (${check.gpu ? 'CUDA GPU' : 'CPU'}); ` +
      '`--backend tensorflow` is available.',
  );
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

async function readProvenance(file: string): Promise<Provenance | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Provenance;
  } catch {
    return undefined;
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
      'provision @tensorflow/tfjs-node-gpu from the CUDA-enabled `tensorflow` wheel (CPU if no CUDA)',
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
