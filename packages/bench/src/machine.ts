/** Facts about the machine and software a benchmark ran on, so a reader can judge the numbers. */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';

export interface MachineFacts {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
  tfjs: string;
  packages: Record<string, string>;
  /** 1-, 5- and 15-minute load averages when the bench started. */
  loadAverage: [number, number, number];
}

const REPORTED_PACKAGES = ['@tensorflow/tfjs-backend-wasm', 'onnxruntime-node', 'sharp'];

export function collectMachineFacts(): MachineFacts {
  const packages: Record<string, string> = {};
  for (const name of REPORTED_PACKAGES) packages[name] = packageVersion(name);
  const [one, five, fifteen] = os.loadavg();
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: os.totalmem() / 2 ** 30,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    tfjs: tf.version.tfjs,
    packages,
    loadAverage: [one!, five!, fifteen!],
  };
}

/** A load average above the core count means measurements shared the CPU with other work. */
export function isLoaded(loadAverage: number, cores: number): boolean {
  return loadAverage > cores;
}

/**
 * Reads the installed version from the bench's or core's node_modules (the wasm backend is core's).
 * Walks the folders rather than using require.resolve: some packages (sharp) do not export package.json.
 */
function packageVersion(name: string): string {
  for (const from of [import.meta.url, import.meta.resolve('@food/core/backend')]) {
    let dir = path.dirname(fileURLToPath(from));
    for (;;) {
      const manifest = path.join(dir, 'node_modules', name, 'package.json');
      if (existsSync(manifest))
        return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return 'not installed';
}
