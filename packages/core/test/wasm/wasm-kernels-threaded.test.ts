import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeWasmKernelTests } from './wasm-kernel-cases.ts';

// tfjs's pthreads build, loaded in Node through patches/@tensorflow__tfjs-backend-wasm@4.22.0.patch.
describeWasmKernelTests(2);

describe('the pthreads build in a CLI process', () => {
  it('computes the same as one thread and lets the process exit by itself', () => {
    const script = path.join(import.meta.dirname, 'fixtures', 'conv-gradients.ts');
    const run = (threads: number) => {
      const child = spawnSync(process.execPath, ['--import', 'tsx', script, String(threads)], {
        cwd: path.resolve(import.meta.dirname, '../..'),
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(child.error).toBeUndefined();
      expect(child.status, child.stderr).toBe(0);
      return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as {
        threads: number;
        dx: number[];
        dw: number[];
      };
    };
    const single = run(1);
    const threaded = run(2);
    expect(single.threads).toBe(1);
    expect(threaded.threads).toBe(Math.min(2, availableParallelism()));
    // XNNPACK splits the output among threads, never a sum: the results are identical.
    expect(threaded.dx).toEqual(single.dx);
    expect(threaded.dw).toEqual(single.dw);
  }, 120_000);
});
