import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cudaStack } from '../../src/doctor/cuda-stack.ts';
import { loadLibraries } from '../../src/doctor/load-libraries.ts';
import { readProvenance } from '../../src/tools/tensorflow-setup/provenance.ts';
import { repoRoot } from '../helpers/run-trainer.ts';

/** The CUDA stack `pnpm setup:tensorflow --gpu` provisioned in this checkout, if it did. */
async function provisionedStack() {
  const requireFromCore = createRequire(path.join(repoRoot, 'packages/core/package.json'));
  const deps = path.join(
    path.dirname(requireFromCore.resolve('@tensorflow/tfjs-node-gpu/package.json')),
    'deps',
  );
  return cudaStack(await readProvenance(deps), deps);
}
const stack = await provisionedStack();

describe('loading libraries with dlopen, in a child process', () => {
  it('loads a real library, and reports dlerror for a missing file and for a file that is not one', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dlopen-'));
    try {
      await writeFile(path.join(dir, 'libfake.so.1'), 'not a library');
      const [libc, missing, fake] = await loadLibraries([
        '/lib/x86_64-linux-gnu/libc.so.6',
        path.join(dir, 'libnothere.so.1'),
        path.join(dir, 'libfake.so.1'),
      ]);
      expect(libc).toEqual({ file: '/lib/x86_64-linux-gnu/libc.so.6', loaded: true });
      expect(missing).toMatchObject({
        loaded: false,
        error: expect.stringContaining('cannot open shared object file'),
      });
      expect(fake).toMatchObject({
        loaded: false,
        error: expect.stringMatching(/invalid ELF header|file too short/),
      });
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it.skipIf(!stack)(
    'every provisioned CUDA library loads, and one moved away from its dependencies names the one missing',
    async () => {
      const results = await loadLibraries(stack!.libraries);
      expect(results.filter((result) => !result.loaded)).toEqual([]);
      expect(results).toHaveLength(stack!.libraries.length);
      // libcusparse finds libnvJitLink through its RUNPATH $ORIGIN/../../nvjitlink/lib: not from a bare folder.
      const cusparse = stack!.libraries.find((file) => file.endsWith('libcusparse.so.12'))!;
      const dir = await mkdtemp(path.join(tmpdir(), 'dlopen-'));
      try {
        await copyFile(cusparse, path.join(dir, 'libcusparse.so.12'));
        const [alone] = await loadLibraries([path.join(dir, 'libcusparse.so.12')]);
        expect(alone).toMatchObject({ loaded: false, error: expect.stringContaining('libnvJitLink.so.12') });
      } finally {
        await rm(dir, { recursive: true });
      }
    },
    120_000,
  );
});
