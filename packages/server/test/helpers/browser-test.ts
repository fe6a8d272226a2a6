import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import type { ServerConfig } from '../../src/config.ts';
import { type RunningServer, startServer } from '../../src/server.ts';

/** Debian's Chromium (the browser tests skip, saying so, where it is not installed). */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** Headless Chromium without the network chatter of a first start. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** `pnpm serve` on a free loopback port with the defaults a browser test needs; `options` override them. */
export function startTestServer(
  options: Pick<ServerConfig, 'checkpoint'> & Partial<ServerConfig>,
): Promise<RunningServer> {
  return startServer({
    host: '127.0.0.1',
    port: 0,
    backend: 'cpu',
    engine: 'tfjs',
    workers: 0,
    maxBatch: 8,
    batchTimeoutMs: 5,
    maxQueue: 64,
    maxUploadBytes: 10 * 1024 * 1024,
    maxPixels: 40_000_000,
    drainDelayMs: 0,
    logLevel: 'silent',
    ...options,
  });
}

/**
 * `best.onnx` beside the checkpoint, written by the trainer's export CLI run as a process (the server
 * never imports the trainer); the export's stderr when it failed.
 */
export function exportOnnxBeside(checkpointDir: string): { ok: boolean; stderr: string } {
  const exported = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'packages/trainer/src/cli.ts',
      'export',
      '--checkpoint',
      checkpointDir,
      '--no-progress',
    ],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  return { ok: exported.status === 0, stderr: exported.stderr };
}
