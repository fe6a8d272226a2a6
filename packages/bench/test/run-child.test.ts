import { describe, expect, it } from 'vitest';
import { classifyExit } from '../src/run-child.ts';
import { looksLikeOutOfMemory, RESULT_PREFIX } from '../src/spec.ts';

const exit = { stdout: '', stderr: '', code: 0, signal: null, timedOut: false, timeoutMs: 60_000 };

describe('classifyExit', () => {
  it('returns the result line the child printed', () => {
    const result = { status: 'ok', unit: 'ms/image', samples: [1, 2, 3] };
    expect(classifyExit({ ...exit, stdout: `noise\n${RESULT_PREFIX}${JSON.stringify(result)}\n` })).toEqual(
      result,
    );
  });

  it('reports a wasm abort without a result as out of memory', () => {
    const result = classifyExit({
      ...exit,
      code: 1,
      stderr: 'RuntimeError: Aborted(). Build with -sASSERTIONS',
    });
    expect(result.status).toBe('oom');
  });

  it("reports V8's heap exhaustion (SIGABRT) as out of memory", () => {
    const stderr = 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory';
    expect(classifyExit({ ...exit, code: null, signal: 'SIGABRT', stderr }).status).toBe('oom');
  });

  it('reports a timeout as such, not as out of memory', () => {
    const result = classifyExit({ ...exit, code: null, signal: 'SIGKILL', timedOut: true });
    expect(result).toEqual({ status: 'timeout', reason: 'stopped after 60 s' });
  });

  it('reports any other crash as failed, with the last stderr lines', () => {
    const result = classifyExit({ ...exit, code: 1, stderr: 'line 1\nTypeError: x is undefined\n' });
    expect(result.status).toBe('failed');
    expect(result.status !== 'ok' && result.reason).toContain('TypeError: x is undefined');
  });
});

describe('looksLikeOutOfMemory', () => {
  it('tells allocation failures from other errors', () => {
    expect(looksLikeOutOfMemory('RangeError: Array buffer allocation failed')).toBe(true);
    expect(looksLikeOutOfMemory('Cannot enlarge memory arrays to size 4294967296')).toBe(true);
    expect(looksLikeOutOfMemory('TypeError: cannot read properties of undefined')).toBe(false);
  });
});
