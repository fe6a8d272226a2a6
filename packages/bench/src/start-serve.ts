/** `pnpm serve` in its own process on a free loopback port, as a user runs it; for the benches. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '@food/core/testing/free-port';
import { guardChild } from './child-guard.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface ServeProcess {
  url: string;
  stop: () => Promise<void>;
}

/**
 * Starts `serve --checkpoint DIR --port P --log-level error` plus `flags`, and resolves once
 * /api/ready answers 200 (rejects after 120 s, or when the server exits first). The server's stderr
 * goes to ours, without tfjs-node's "already registered" noise.
 */
export async function startServe(checkpoint: string, flags: string[] = []): Promise<ServeProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'packages/server/src/cli.ts',
      'serve',
      '--checkpoint',
      checkpoint,
      '--port',
      String(port),
      '--log-level',
      'error',
      ...flags,
    ],
    { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const { stop } = guardChild(child);
  // tfjs-node in worker threads repeats "kernel ... already registered" per kernel: noise, not errors.
  child.stderr?.on('data', (chunk: Buffer) => {
    const lines = chunk
      .toString()
      .split('\n')
      .filter((line) => line && !/already registered/.test(line));
    if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const ready = await fetch(`${url}/api/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return { url, stop };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(
        child.exitCode !== null
          ? `the server exited (code ${child.exitCode}) before it was ready; its error is above`
          : 'the server was not ready within 120 s; its log (--log-level info) says what it waits for',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
