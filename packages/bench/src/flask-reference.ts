/**
 * The Flask + PyTorch reference server of `pnpm bench:serve` (./flask_reference.py, run by Debian's
 * /usr/bin/python3): what the reference project served, started on a free port so the bench can load
 * it the same way as `pnpm serve` and report the ratio.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { PreprocessConfig } from '@food/core/preprocess/config';
import { freePort } from '@food/core/testing/free-port';
import { guardChild } from './child-guard.ts';
import { PYTHON } from './pytorch.ts';

const SCRIPT = fileURLToPath(new URL('./flask_reference.py', import.meta.url));
const MODULES = ['flask', 'torch', 'PIL'] as const;
/** The Debian package that brings each module to /usr/bin/python3. */
const DEBIAN_PACKAGES: Record<(typeof MODULES)[number], string> = {
  flask: 'python3-flask',
  torch: 'python3-torch',
  PIL: 'python3-pil',
};

/** auto: measure the reference when python3 has flask and torch, else say it is skipped. */
export type ReferenceChoice = 'auto' | 'flask' | 'none';
export const REFERENCE_CHOICES: readonly ReferenceChoice[] = ['auto', 'flask', 'none'];

export function parseReferenceChoice(value: string): ReferenceChoice {
  if ((REFERENCE_CHOICES as readonly string[]).includes(value)) return value as ReferenceChoice;
  throw new Error(`expected one of ${REFERENCE_CHOICES.join(', ')}, got "${value}"`);
}

/** Why the reference cannot run, with the command that fixes it. */
export function missingModulesReason(missing: readonly string[], python = PYTHON): string {
  const packages = missing.map((name) => DEBIAN_PACKAGES[name as (typeof MODULES)[number]] ?? name);
  return `${python} cannot import ${missing.join(', ')} (apt-get install -y ${packages.join(' ')})`;
}

/** Undefined when the reference can run, else why not. Looks the modules up without importing torch. */
export async function referenceUnavailable(python = PYTHON): Promise<string | undefined> {
  if (!existsSync(python))
    return `${python} not found (apt-get install -y python3 ${Object.values(DEBIAN_PACKAGES).join(' ')})`;
  const probe = `import importlib.util as u; print(",".join(m for m in ${JSON.stringify(MODULES)} if u.find_spec(m) is None))`;
  try {
    const { stdout } = await promisify(execFile)(python, ['-c', probe], { timeout: 30_000 });
    const missing = stdout.trim().split(',').filter(Boolean);
    return missing.length > 0 ? missingModulesReason(missing, python) : undefined;
  } catch (error) {
    return `${python} failed to look up ${MODULES.join(', ')}: ${(error as Error).message}`;
  }
}

/** What the reference serves: the checkpoint's classes, input size and network shape. */
export interface ReferenceModel {
  labels: string[];
  preprocess: Pick<PreprocessConfig, 'resizeShorterSide' | 'cropSize' | 'mean' | 'std'>;
  widthMultiplier: number;
  blocksPerStage: number[];
}

export function referenceArgs(model: ReferenceModel, port: number, threads: number): string[] {
  return [
    SCRIPT,
    `--port=${port}`,
    `--threads=${threads}`,
    `--labels=${model.labels.join(',')}`,
    `--resize=${model.preprocess.resizeShorterSide}`,
    `--crop=${model.preprocess.cropSize}`,
    `--mean=${model.preprocess.mean.join(',')}`,
    `--std=${model.preprocess.std.join(',')}`,
    `--width=${model.widthMultiplier}`,
    `--blocks=${model.blocksPerStage.join(',')}`,
  ];
}

export interface ReferenceServer {
  url: string;
  /** What /api/ready says: the network (torchvision's or ours), torch's version and threads. */
  description: { model: string; torch: string; threads: number };
  /** Kills the server; resolves once it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts the reference on a free port and waits (at most `timeoutMs`) until /api/ready answers. The
 * child is killed by stop(), when this process exits, and on Ctrl-C; it also exits by itself when its
 * stdin closes, i.e. when this process dies by a signal no handler sees.
 */
export async function startFlaskReference(
  model: ReferenceModel,
  options: { timeoutMs?: number; threads?: number; python?: string } = {},
): Promise<ReferenceServer> {
  const python = options.python ?? PYTHON;
  const timeoutMs = options.timeoutMs ?? 90_000;
  const port = await freePort();
  const child = spawn(python, referenceArgs(model, port, options.threads ?? availableParallelism()), {
    stdio: ['pipe', 'ignore', 'pipe'],
    // No __pycache__ beside the sources (it imports ./pytorch_resnet50.py).
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  const { stop, spawnError } = guardChild(child);
  // Werkzeug logs every request on stderr: keep only the tail, for the error message.
  let stderrTail = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-2000);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const ready = await fetch(`${url}/api/ready`).then(
        async (response) =>
          response.ok ? ((await response.json()) as ReferenceServer['description']) : undefined,
        () => undefined,
      );
      if (ready) return { url, description: ready, stop };
      const gone = spawnError() !== undefined || child.exitCode !== null || child.signalCode !== null;
      if (gone || Date.now() > deadline) {
        const why = gone
          ? `exited (${spawnError()?.message ?? child.exitCode ?? child.signalCode})`
          : `did not answer ${url}/api/ready within ${Math.round(timeoutMs / 1000)} s`;
        const tail = stderrTail.trim().split('\n').slice(-5).join('\n  ');
        throw new Error(
          `the Flask reference (${python} ${SCRIPT}) ${why}.${tail ? `\n  ${tail}` : ''}\n` +
            'Run it by hand with the same flags to see why, or skip it with --reference none.',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } catch (error) {
    await stop();
    throw error;
  }
}
