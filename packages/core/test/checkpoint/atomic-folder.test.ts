import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSiblingName, writeFolderAtomically } from '../../src/checkpoint/atomic-folder.ts';

describe('parseSiblingName', () => {
  it('reads back the folder and stage of the siblings writeFolderAtomically makes', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'atomic-names-'));
    try {
      let seen: string[] = [];
      await writeFolderAtomically(path.join(root, 'epoch-003'), async () => {
        seen = await readdir(root);
      });
      expect(seen).toHaveLength(1);
      expect(parseSiblingName(seen[0]!)).toMatchObject({
        folder: 'epoch-003',
        stage: 'tmp',
        pid: process.pid,
      });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('is undefined for other names', () => {
    expect(parseSiblingName('epoch-003')).toBeUndefined();
    expect(parseSiblingName('.latest.ready-notapid')).toBeUndefined();
    expect(parseSiblingName('.a.b.old-12-ff')).toMatchObject({
      folder: 'a.b',
      stage: 'old',
      pid: 12,
      tag: '12-ff',
    });
  });
});
