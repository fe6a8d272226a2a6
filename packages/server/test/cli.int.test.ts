import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCaptured, tsxArgs } from '@food/core/spawn-captured';
import { freePort } from '@food/core/testing/free-port';
import { gradient, makePng } from '@food/core/testing/synthetic-images';
import { createTinyCheckpoint, type TinyCheckpoint } from '@food/core/testing/tiny-checkpoint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `pnpm serve` and `pnpm predict` as a user runs them: separate processes, real sockets, worker threads.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = path.join(repoRoot, 'packages/server/src/cli.ts');

function run(args: string[], env: Record<string, string> = {}) {
  const { child, finished } = startCaptured(process.execPath, tsxArgs(CLI, args), {
    cwd: repoRoot,
    env: { ...process.env, ...env },
  });
  return Object.assign(child, { output: finished });
}

let checkpoint: TinyCheckpoint;
let imagePath: string;

beforeAll(async () => {
  checkpoint = await createTinyCheckpoint({ withAssets: false });
  imagePath = path.join(path.dirname(checkpoint.dir), 'dish.png');
  await writeFile(imagePath, makePng(64, 48, gradient(1)));
});

afterAll(async () => {
  await checkpoint?.cleanup();
});

describe('pnpm serve / pnpm predict', () => {
  it('serve exits 1 with the checkpoint error when the folder is missing', async () => {
    const { code, stderr } = await run(['serve', '--checkpoint', '/no/such/run/best', '--port', '0']).output;
    expect(code).toBe(1);
    expect(stderr).toContain('error: No checkpoint at /no/such/run/best');
  });

  it('serve rejects a bad flag value with exit 1', async () => {
    const { code, stderr } = await run(['serve', '--checkpoint', checkpoint.dir, '--workers', 'many']).output;
    expect(code).toBe(1);
    expect(stderr).toContain(
      "option '--workers <n>' argument 'many' is invalid. Expected an integer from 0 to 64.",
    );
  });

  it('reads its settings from environment variables (12-factor), validated like flags', async () => {
    const fromEnv = await run(['serve'], { CHECKPOINT: '/from/env/best', PORT: '0' }).output;
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.stderr).toContain('No checkpoint at /from/env/best');
    const badPort = await run(['serve'], { CHECKPOINT: checkpoint.dir, PORT: 'http' }).output;
    expect(badPort.code).toBe(1);
    expect(badPort.stderr).toContain(
      "value 'http' from env 'PORT' is invalid. Expected an integer from 0 to 65535.",
    );
  });

  it('serves, predicts, and drains on SIGTERM with exit 0', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = run([
      'serve',
      '--checkpoint',
      checkpoint.dir,
      '--port',
      String(port),
      '--workers',
      '1',
      '--backend',
      'cpu',
    ]);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('server not ready in 60 s')), 60_000);
        server.stdout?.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('"msg":"ready: open')) {
            clearTimeout(timer);
            resolve();
          }
        });
        server.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
      });

      const text = await run(['predict', '--url', url, '--top-k', '3', imagePath]).output;
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/dish\.png {2}\([\d.]+ ms, tiny-run\/best\)\n {2}1\. \S.*%/);
      expect(text.stdout.trim().split('\n')).toHaveLength(4);

      const json = await run(['predict', '--url', url, '--json', imagePath]).output;
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)[0].predictions).toHaveLength(5);

      server.kill('SIGTERM');
      const { code, stdout } = await server.output;
      expect(code).toBe(0);
      expect(stdout).toContain('SIGTERM: finishing in-flight requests, then exiting');
    } finally {
      server.kill('SIGKILL');
    }

    const down = await run(['predict', '--url', url, imagePath]).output;
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(
      `error: no server at ${url} (ECONNREFUSED); start one with \`pnpm serve --checkpoint`,
    );
  }, 120_000);
});
