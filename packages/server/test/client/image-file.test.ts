import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UserError } from '@food/core/errors';
import { describe, expect, it } from 'vitest';
import { imageContentType, readImageFile } from '../../src/client/image-file.ts';

describe('readImageFile', () => {
  it("returns the file's bytes", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'image-file-'));
    const file = path.join(dir, 'ramen.jpg');
    await writeFile(file, Uint8Array.from([0xff, 0xd8, 0xff]));
    try {
      expect([...(await readImageFile(file))]).toEqual([0xff, 0xd8, 0xff]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says which file is missing and what to check, as a UserError', async () => {
    const error = await readImageFile('/no/such/ramen.jpg').catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(UserError);
    expect(error).toMatchObject({
      code: 'FILE_UNREADABLE',
      message: '/no/such/ramen.jpg: no such file; check the path.',
    });
  });
});

describe('imageContentType', () => {
  it('maps image extensions case-insensitively and anything else to octet-stream', () => {
    expect(imageContentType('a/ramen.JPG')).toBe('image/jpeg');
    expect(imageContentType('pho.webp')).toBe('image/webp');
    expect(imageContentType('notes.txt')).toBe('application/octet-stream');
  });
});
