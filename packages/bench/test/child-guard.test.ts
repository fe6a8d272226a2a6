import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { guardChild } from '../src/child-guard.ts';

describe('guardChild', () => {
  it('kills the child on stop, waits for it, and leaves no signal handler behind', async () => {
    const listeners = () => [process.listenerCount('SIGINT'), process.listenerCount('exit')];
    const before = listeners();
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const guarded = guardChild(child);
    expect(listeners()).toEqual([before[0]! + 1, before[1]! + 1]);
    await guarded.stop();
    expect(child.signalCode).toBe('SIGTERM');
    expect(listeners()).toEqual(before);
    await guarded.stop(); // a second stop (error paths stop twice) is harmless
  });

  it('reports a child that could not be started instead of waiting for it', async () => {
    const guarded = guardChild(spawn('/nonexistent/python3', [], { stdio: 'ignore' }));
    await guarded.stop();
    expect(guarded.spawnError()?.message).toMatch(/ENOENT/);
  });
});
