import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { measureStep, parseTimeOutput } from '../../src/scale/measure-step.ts';

describe('measureStep', () => {
  it("reads GNU time's last line, also after its note on a failed command", () => {
    expect(parseTimeOutput('123456 80\n')).toEqual({
      peakRssBytes: 123456 * 1024,
      diskWrittenBytes: 80 * 512,
    });
    expect(parseTimeOutput('Command exited with non-zero status 1\n2048 0\n')).toEqual({
      peakRssBytes: 2048 * 1024,
      diskWrittenBytes: 0,
    });
    expect(() => parseTimeOutput('')).toThrow(/unexpected output/);
  });

  it("measures a child's peak memory and the bytes it wrote, and reports a failure with its last lines", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'measure-step-'));
    try {
      const file = path.join(dir, 'out.bin');
      const script = `const fs=require('fs');const b=Buffer.alloc(300*2**20,1);const fd=fs.openSync(${JSON.stringify(file)},'w');fs.writeSync(fd,b.subarray(0,16*2**20));fs.fsyncSync(fd);fs.closeSync(fd);`;
      const run = await measureStep(process.execPath, ['-e', script], {});
      expect(run.ok).toBe(true);
      expect(run.peakRssBytes).toBeGreaterThan(300 * 2 ** 20);
      expect(run.diskWrittenBytes).toBeGreaterThanOrEqual(16 * 2 ** 20);
      expect(run.wallSeconds).toBeGreaterThan(0);

      const failed = await measureStep(
        process.execPath,
        ['-e', 'console.error("no data here");process.exit(3)'],
        {},
      );
      expect(failed).toMatchObject({ ok: false, failure: 'no data here' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
