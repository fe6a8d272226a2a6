import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listWrittenFiles } from '../../src/scale/written-files.ts';

describe('listWrittenFiles', () => {
  it('lists small folders file by file and a folder of many files as one line with its total', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'written-files-'));
    await mkdir(path.join(root, 'report'));
    await writeFile(path.join(root, 'report', 'metrics.json'), 'x'.repeat(10));
    await writeFile(path.join(root, 'report', 'report.html'), 'x'.repeat(20));
    await mkdir(path.join(root, 'cache', 'nested'), { recursive: true });
    for (let i = 0; i < 20; i++)
      await writeFile(path.join(root, 'cache', 'nested', `${i}.bin`), 'x'.repeat(5));
    await writeFile(path.join(root, 'manifest.json'), 'x'.repeat(3));

    expect(await listWrittenFiles(root)).toEqual([
      { path: 'cache/', bytes: 100, files: 20 },
      { path: 'manifest.json', bytes: 3, files: 1 },
      { path: 'report/metrics.json', bytes: 10, files: 1 },
      { path: 'report/report.html', bytes: 20, files: 1 },
    ]);
  });
});
