import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { runCommandLine } from '@food/core/run-command-line';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli.ts';
import { repoRoot } from '../helpers/run-tools.ts';

// Each case must fail in well under a second: before the backend starts, before any data is written,
// and without touching the previous demo's folders (a running server may be showing them).
const workdir = `demo-preflight-${process.pid}`;
const previous = ['data', 'checkpoints', 'reports'].map((top) => path.join(repoRoot, top, workdir));
const food = path.join(repoRoot, 'data', `${workdir}-food`);

beforeAll(async () => {
  for (const dir of previous) {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'previous.txt'), 'the previous demo');
  }
  await mkdir(path.join(food, 'meta'), { recursive: true });
  await mkdir(path.join(food, 'images'), { recursive: true });
  await writeFile(path.join(food, 'meta', 'classes.txt'), 'apple_pie\nbaklava\n');
});

afterAll(async () => {
  for (const dir of [...previous, food]) await rm(dir, { recursive: true, force: true });
});

/** `pnpm demo ARGS` in-process: stderr, and how long it took. */
async function demo(...args: string[]): Promise<{ stderr: string; ms: number }> {
  let stderr = '';
  vi.stubEnv('HOST', ''); // the server's default host, 127.0.0.1
  vi.spyOn(process.stderr, 'write').mockImplementation((text) => {
    stderr += String(text);
    return true;
  });
  const exitCode = process.exitCode;
  const started = performance.now();
  try {
    await runCommandLine(buildProgram(), ['node', 'cli', 'demo', '--workdir', workdir, ...args]);
    expect(process.exitCode).toBe(1);
    return { stderr, ms: performance.now() - started };
  } finally {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    process.exitCode = exitCode;
  }
}

async function expectPreviousDemoIntact(): Promise<void> {
  for (const dir of previous) {
    expect(await readFile(path.join(dir, 'previous.txt'), 'utf8')).toBe('the previous demo');
  }
}

describe('pnpm demo checks its inputs before any work', () => {
  it('a mistyped --weights', async () => {
    const { stderr, ms } = await demo('--data', food, '--weights', 'data/weights/resnet50-imagenett');
    expect(stderr).toBe(
      'error: --weights data/weights/resnet50-imagenett: no such file or folder. Pass ../shared/weights/resnet50-imagenet, or data/weights/resnet50-imagenet after `pnpm trainer import-weights`.\n',
    );
    expect(ms).toBeLessThan(2000);
    await expectPreviousDemoIntact();
  });

  it('--data that is not a Food-101 folder, and more --classes than it holds', async () => {
    expect((await demo('--data', path.join(food, 'meta'))).stderr).toMatch(
      /^error: .*classes\.txt is missing/,
    );
    expect((await demo('--data', food, '--classes', '5')).stderr).toMatch(
      /^error: --classes 5 asks for more classes than .* holds \(2\)/,
    );
    await expectPreviousDemoIntact();
  });

  it('a busy port, found before the pipeline instead of after it', async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen({ port: 0, host: '127.0.0.1' }, resolve));
    const { port } = busy.address() as { port: number };
    try {
      const { stderr } = await demo('--port', String(port));
      expect(stderr).toMatch(new RegExp(`^error: port ${port} on 127\\.0\\.0\\.1 is already in use`));
      await expectPreviousDemoIntact();
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });
});
