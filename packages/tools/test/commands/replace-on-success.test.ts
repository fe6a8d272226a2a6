import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ReplaceOnSuccess } from '../../src/commands/replace-on-success.ts';

const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

/** A root holding `report/` with a file saying `previous`. */
async function previousRun(): Promise<{ root: string; report: string }> {
  const root = await mkdtemp(path.join(tmpdir(), 'replace-on-success-'));
  roots.push(root);
  const report = path.join(root, 'report');
  await mkdir(report);
  await writeFile(path.join(report, 'metrics.json'), 'previous');
  return { root, report };
}

describe('ReplaceOnSuccess', () => {
  it('a failed run leaves the previous folder as it was', async () => {
    const { root, report } = await previousRun();
    const folders = new ReplaceOnSuccess();
    const failed = folders.run(async () => {
      await folders.clear(report);
      await mkdir(report);
      await writeFile(path.join(report, 'metrics.json'), 'half-written');
      throw new Error('evaluation failed');
    });
    await expect(failed).rejects.toThrow('evaluation failed');
    expect(await readFile(path.join(report, 'metrics.json'), 'utf8')).toBe('previous');
    expect(await readdir(root)).toEqual(['report']);
  });

  it('a successful run replaces it and leaves nothing beside it', async () => {
    const { root, report } = await previousRun();
    const folders = new ReplaceOnSuccess();
    await folders.run(async () => {
      await folders.clear(report);
      await mkdir(report);
      await writeFile(path.join(report, 'metrics.json'), 'new');
    });
    expect(await readFile(path.join(report, 'metrics.json'), 'utf8')).toBe('new');
    expect(await readdir(root)).toEqual(['report']);
  });

  it('after a run that was killed mid-way, the folder it set aside is the one kept', async () => {
    const { root, report } = await previousRun();
    await rename(report, `${report}.previous`); // what the killed run did first,
    await mkdir(report); // then it wrote half a report
    await writeFile(path.join(report, 'metrics.json'), 'partial');
    const folders = new ReplaceOnSuccess();
    await expect(
      folders.run(async () => {
        await folders.clear(report);
        throw new Error('this run fails too');
      }),
    ).rejects.toThrow();
    expect(await readFile(path.join(report, 'metrics.json'), 'utf8')).toBe('previous');
    expect(await readdir(root)).toEqual(['report']);
  });
});
