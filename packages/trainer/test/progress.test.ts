import { describe, expect, it, vi } from 'vitest';
import {
  createByteProgress,
  createLineProgress,
  createProgress,
  type ProgressMode,
} from '../src/progress.ts';

/** A line progress over `total` ticks with a fake clock; `msPerTick` of time passes per tick. */
function linesOf(total: number, msPerTick: number, everyMs?: number): string[] {
  const lines: string[] = [];
  let clock = 0;
  const progress = createLineProgress('features', total, {
    everyPercent: 5,
    everyMs,
    write: (line) => lines.push(line),
    now: () => clock,
  });
  for (let i = 0; i < total; i++) {
    clock += msPerTick;
    progress.tick();
  }
  return lines;
}

describe('plain progress lines', () => {
  it('prints when the step starts and every 5%, with an ETA', () => {
    const lines = linesOf(3750, 10);
    expect(lines).toHaveLength(21); // the first image, then 5%, 10%, … 100%
    expect(lines[0]).toBe('features 1/3750 (0%) ETA 37s\n');
    expect(lines[1]).toMatch(/^features 188\/3750 \(5%\) ETA \d+s\n$/);
    expect(lines.at(-1)).toBe('features 3750/3750 (100%) ETA 0s\n');
  });

  it('also prints at least every 30 s when 5% takes longer (3,750 images in 17 minutes)', () => {
    const msPerImage = (17 * 60_000) / 3750;
    const lines = linesOf(3750, msPerImage, 30_000);
    // 17 minutes: 34 lines from the 30 s rule, plus the percentage lines that fall between them.
    expect(lines.length).toBeGreaterThanOrEqual(34);
    const gaps = lines.map((line) => Number(/^features (\d+)\//.exec(line)![1]) * msPerImage);
    for (let i = 1; i < gaps.length; i++)
      expect(gaps[i] - gaps[i - 1]).toBeLessThanOrEqual(30_000 + msPerImage);
  });
});

describe('--no-progress is quieter than the default', () => {
  /** Lines createProgress prints on a pipe (stderr not a TTY) for `total` ticks spread over `ms`. */
  function pipedLines(mode: ProgressMode, total: number, ms: number): number {
    let clock = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => clock);
    const tty = process.stderr.isTTY;
    process.stderr.isTTY = false;
    let lines = 0;
    vi.spyOn(process.stderr, 'write').mockImplementation(() => {
      lines++;
      return true;
    });
    try {
      const progress = createProgress('features', total, mode);
      for (let i = 0; i < total; i++) {
        clock += ms / total;
        progress.tick();
      }
      progress.stop();
      return lines;
    } finally {
      vi.restoreAllMocks();
      process.stderr.isTTY = tty;
    }
  }

  it.each([
    ['a 10-second step', 10_000],
    ['a 17-minute step', 17 * 60_000],
    ['a 2-hour step', 120 * 60_000],
  ])('prints fewer lines than the piped default for %s', (_name, ms) => {
    const quiet = pipedLines('lines', 3750, ms);
    const piped = pipedLines(true, 3750, ms);
    expect(quiet).toBeGreaterThanOrEqual(2); // the step's start and end are still there
    expect(quiet).toBeLessThan(piped);
  });
});

describe('createByteProgress', () => {
  it('counts whole MiB once the total is known, and shows nothing before', () => {
    const tty = process.stderr.isTTY;
    process.stderr.isTTY = false;
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((text) => {
      lines.push(String(text));
      return true;
    });
    try {
      const bar = createByteProgress('download', 'lines');
      bar.report(5 * 2 ** 20, undefined);
      expect(lines).toEqual([]);
      bar.report(2 ** 20 - 1, 4 * 2 ** 20);
      expect(lines).toEqual([]);
      bar.report(2 ** 20, 4 * 2 ** 20);
      bar.report(4 * 2 ** 20, 4 * 2 ** 20);
      bar.stop();
      expect(lines.map((line) => line.split(' ETA')[0])).toEqual([
        'download (MiB) 1/4 (25%)',
        'download (MiB) 4/4 (100%)',
      ]);
    } finally {
      vi.restoreAllMocks();
      process.stderr.isTTY = tty;
    }
  });
});
