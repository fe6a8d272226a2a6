import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { installNote } from '../../src/tools/install-note.ts';
import { repoRoot } from '../helpers/run-trainer.ts';

describe('pnpm install: one calm line about the tensorflow backend', () => {
  it('says what to run and why it helps on a CPU too, once, and nothing when a binding is present', () => {
    const note = installNote(['missing', 'missing']);
    expect(note).toMatch(
      /^tensorflow backend: not set up .*`pnpm setup:tensorflow`.*faster than wasm on a CPU too/,
    );
    expect(note?.trimEnd().split('\n')).toHaveLength(1);
    expect(installNote(['not-installed', 'present'])).toBeUndefined();
  });

  it('the root postinstall runs it', () => {
    const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    expect(manifest.scripts.postinstall).toBe('tsx packages/trainer/src/tools/install-note.ts');
  });

  it('every installed package with an install script is allowed or ignored in pnpm-workspace.yaml (no "ignored build scripts" box)', () => {
    const workspace = parse(readFileSync(path.join(repoRoot, 'pnpm-workspace.yaml'), 'utf8'));
    const listed = new Set([...workspace.onlyBuiltDependencies, ...workspace.ignoredBuiltDependencies]);
    const store = path.join(repoRoot, 'node_modules', '.pnpm');
    const unlisted = new Set<string>();
    for (const entry of readdirSync(store)) {
      const modules = path.join(store, entry, 'node_modules');
      if (!existsSync(modules)) continue;
      for (const name of packageNames(modules)) {
        const manifest = path.join(modules, name, 'package.json');
        if (!existsSync(manifest)) continue;
        const scripts = JSON.parse(readFileSync(manifest, 'utf8')).scripts ?? {};
        const builds = ['preinstall', 'install', 'postinstall'].some((hook) => hook in scripts);
        if (builds && !listed.has(name)) unlisted.add(name);
      }
    }
    expect([...unlisted]).toEqual([]);
  });
});

/** `name` and `@scope/name` folders directly in a node_modules folder. */
function packageNames(modules: string): string[] {
  return readdirSync(modules).flatMap((name) =>
    name.startsWith('@') ? readdirSync(path.join(modules, name)).map((inner) => `${name}/${inner}`) : [name],
  );
}
