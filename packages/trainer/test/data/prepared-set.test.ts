import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '@food/core/errors';
import { DEFAULT_PREPROCESS } from '@food/core/preprocess/config';
import { describe, expect, it } from 'vitest';
import {
  missingStats,
  preparedPaths,
  readManifest,
  readPreparedPreprocess,
  writePreparedPreprocess,
} from '../../src/data/prepared-set.ts';
import { tempDir } from './temp-dir.ts';

describe('prepared set: preprocess.json', () => {
  it('reads back what it wrote, and undefined before stats ran (each caller decides what that means)', async () => {
    const dir = path.join(await tempDir('prepared-set'), 'food');
    await mkdir(dir, { recursive: true });
    expect(await readPreparedPreprocess(dir)).toBeUndefined();
    expect(missingStats(dir).message).toMatch(/pnpm trainer stats --prepared .*food/);

    const config = { ...DEFAULT_PREPROCESS, mean: [0.5, 0.4, 0.3] as [number, number, number] };
    expect(await writePreparedPreprocess(dir, config)).toBe(preparedPaths(dir).preprocess);
    expect(await readPreparedPreprocess(dir)).toEqual(config);
    expect(await readFile(preparedPaths(dir).preprocess, 'utf8')).toMatch(/\n$/);
  });

  it('names an invalid file and says how to recreate it', async () => {
    const dir = await tempDir('prepared-invalid');
    await writeFile(preparedPaths(dir).preprocess, JSON.stringify({ version: 2 }));
    const error = await readPreparedPreprocess(dir).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/preprocess\.json is invalid .*unsupported version 2/);
    expect((error as Error).message).toMatch(/pnpm trainer stats --prepared/);
  });
});

describe('prepared set: a folder without manifest.json', () => {
  it('recognises a raw Food-101 folder and suggests preparing it with the classes it holds', async () => {
    const raw = path.join(await tempDir('raw-food'), 'food10');
    await mkdir(path.join(raw, 'images', 'apple_pie'), { recursive: true });
    await mkdir(path.join(raw, 'meta'), { recursive: true });
    const classes = ['apple_pie', 'baby_back_ribs', 'baklava'];
    await writeFile(path.join(raw, 'meta', 'classes.txt'), `${classes.join('\n')}\n`);
    const error = await readManifest(raw).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(UserError);
    const message = (error as Error).message;
    expect(message).toContain('is a raw Food-101 folder');
    expect(message).toContain(`pnpm trainer prepare --data ${raw} --out data/prepared/food10 --classes 3`);
    expect(message).not.toContain('seed50');
  });

  it('still asks for prepare on any other folder', async () => {
    const dir = await tempDir('not-prepared');
    const error = await readManifest(dir).catch((thrown: unknown) => thrown);
    expect((error as Error).message).toMatch(/no manifest\.json in .*pnpm trainer prepare/);
  });
});
