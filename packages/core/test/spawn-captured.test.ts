import { describe, expect, it } from 'vitest';
import { spawnCaptured, startCaptured } from '../src/spawn-captured.ts';

const node = (script: string) => ['-e', script];

describe('spawnCaptured', () => {
  it('captures stdout, stderr and the exit code, and streams stderr lines', async () => {
    const lines: string[] = [];
    const script = "process.stdout.write('out'); console.error('first\\n  second  '); process.exit(3)";
    const run = await spawnCaptured(process.execPath, node(script), { onLine: (line) => lines.push(line) });
    expect(run).toMatchObject({
      stdout: 'out',
      stderr: 'first\n  second  \n',
      code: 3,
      signal: null,
      timedOut: false,
    });
    expect(lines).toEqual(['first', 'second']);
  });

  it('keeps only the last stderrLimit characters of stderr', async () => {
    const run = await spawnCaptured(
      process.execPath,
      node("process.stderr.write('x'.repeat(5000) + 'END')"),
      {
        stderrLimit: 10,
      },
    );
    expect(run.stderr).toBe('xxxxxxxEND');
  });

  it('kills a child that runs past timeoutMs', async () => {
    const run = await spawnCaptured(process.execPath, node('setInterval(() => {}, 1000)'), {
      timeoutMs: 200,
    });
    expect(run).toMatchObject({ timedOut: true, signal: 'SIGKILL', code: null });
  });

  it('resolves with the error when the program cannot start', async () => {
    const run = await spawnCaptured('/nonexistent/program', []);
    expect(run.error?.message).toMatch(/ENOENT/);
    expect(run).toMatchObject({ code: null, timedOut: false });
  });

  it('startCaptured hands over the child, to signal it while it runs', async () => {
    const { child, finished } = startCaptured(process.execPath, node('setInterval(() => {}, 1000)'));
    child.kill('SIGTERM');
    expect(await finished).toMatchObject({ signal: 'SIGTERM', timedOut: false });
  });
});
