/**
 * Loads shared libraries the way TensorFlow will: with dlopen, in a child Node process (a library whose
 * constructor crashes must not take the doctor down). Node's `process.dlopen` calls dlopen(3) first and
 * only then looks for an addon's registration, so for a plain library "Module did not self-register"
 * means dlopen succeeded (the library and every DT_NEEDED dependency were found and mapped), while a
 * failed dlopen reports dlerror(3), e.g. "libnvJitLink.so.12: cannot open shared object file". RTLD_NOW
 * resolves every symbol at load, as Python's ctypes does, so a missing symbol fails here, not mid-run.
 * No GPU is involved: the CUDA libraries load without a driver and only look for libcuda.so.1 when used.
 */
import { spawnCaptured } from '@food/core/spawn-captured';

export interface LoadResult {
  file: string;
  loaded: boolean;
  /** dlerror's message when it did not load. */
  error?: string;
}

const LOAD_SCRIPT = `
const { constants } = require('node:os');
for (const file of JSON.parse(process.argv[1])) {
  let error;
  try {
    process.dlopen({ exports: {} }, file, constants.dlopen.RTLD_NOW);
  } catch (caught) {
    if (!/did not self-register/.test(caught.message)) error = caught.message;
  }
  console.log('LOAD ' + JSON.stringify(error === undefined ? { file, loaded: true } : { file, loaded: false, error }));
}
`;

export async function loadLibraries(files: readonly string[], timeoutMs = 120_000): Promise<LoadResult[]> {
  if (files.length === 0) return [];
  const run = await spawnCaptured(process.execPath, ['-e', LOAD_SCRIPT, JSON.stringify(files)], {
    timeoutMs,
  });
  const results = new Map(
    run.stdout
      .split('\n')
      .filter((line) => line.startsWith('LOAD '))
      .map((line) => JSON.parse(line.slice('LOAD '.length)) as LoadResult)
      .map((result) => [result.file, result] as const),
  );
  // A library the child never reported on is the one it died loading.
  const died = run.timedOut
    ? `no answer after ${timeoutMs / 1000} s`
    : `the loading process exited (${run.signal ?? run.code})`;
  return files.map((file) => results.get(file) ?? { file, loaded: false, error: died });
}
