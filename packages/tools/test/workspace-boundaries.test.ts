import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/run-tools.ts';

// The rules of docs/architecture.md that a file move can break silently: a package reaches another only
// through its `exports`, and only in the allowed direction.
const packagesDir = path.join(repoRoot, 'packages');
const packageNames = readdirSync(packagesDir).filter((name) =>
  existsSync(path.join(packagesDir, name, 'package.json')),
);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => !file.split(path.sep).includes('node_modules') && /\.(ts|mts|mjs)$/.test(file))
    .map((file) => path.join(dir, file));
}

/** The workspace packages each package may import (`@food/NAME`). */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  trainer: ['core'],
  server: ['core'],
  tools: ['core', 'trainer', 'server'],
  deploy: ['core', 'trainer', 'server'],
  bench: ['core', 'trainer', 'server'],
};

describe('workspace packages', () => {
  it.each(packageNames)('%s: every `exports` target is a real file', (name) => {
    const manifest = JSON.parse(readFileSync(path.join(packagesDir, name, 'package.json'), 'utf8'));
    for (const [subpath, target] of Object.entries<string>(manifest.exports ?? {})) {
      const file = path.join(packagesDir, name, target);
      if (target.includes('*')) {
        // A pattern ("./*": "./src/*.ts"): its folder holds files of its extension.
        const folder = path.dirname(file.split('*')[0] as string);
        const extension = path.extname(target);
        expect(
          sourceFiles(folder).some((found) => found.endsWith(extension)),
          `${name} ${subpath}`,
        ).toBe(true);
      } else {
        expect(existsSync(file), `${name} ${subpath} → ${target}`).toBe(true);
      }
    }
  });

  it.each(packageNames)("%s exports only source modules, never its tests' helpers", (name) => {
    const manifest = JSON.parse(readFileSync(path.join(packagesDir, name, 'package.json'), 'utf8'));
    for (const [subpath, target] of Object.entries<string>(manifest.exports ?? {})) {
      expect(target, `${name} ${subpath}`).toMatch(/^\.\/src\//);
    }
  });

  it.each(packageNames)('%s imports only the workspace packages it may', (name) => {
    expect(Object.keys(ALLOWED), `add ${name} to ALLOWED`).toContain(name);
    for (const file of sourceFiles(path.join(packagesDir, name))) {
      const text = readFileSync(file, 'utf8');
      for (const [, imported] of text.matchAll(/['"]@food\/([\w-]+)/g)) {
        if (imported === name) continue;
        expect(ALLOWED[name], `${path.relative(repoRoot, file)} imports @food/${imported}`).toContain(
          imported,
        );
      }
      for (const [reached] of text.matchAll(/['"]@food\/[\w-]+\/test\/[^'"]*/g)) {
        expect.fail(`${path.relative(repoRoot, file)} imports another package's test file ${reached}`);
      }
    }
  });

  it.each(packageNames)('%s reaches no other package by a relative path', (name) => {
    const ownDir = path.join(packagesDir, name);
    for (const file of sourceFiles(ownDir)) {
      const text = readFileSync(file, 'utf8');
      for (const [, relative] of text.matchAll(/['`](\.\.\/[^'`$]*)['`]/g)) {
        const target = path.resolve(path.dirname(file), relative as string);
        const inOwnPackage = target === ownDir || target.startsWith(ownDir + path.sep);
        const intoOtherPackage = target.startsWith(packagesDir + path.sep) && !inOwnPackage;
        expect(intoOtherPackage, `${path.relative(repoRoot, file)}: '${relative}'`).toBe(false);
      }
    }
  });
});

describe('package bins', () => {
  // pnpm links a workspace package's `bin` into its dependents' node_modules/.bin and makes the target
  // executable: committed as 644, a fresh clone is dirty (`git status`) after `pnpm install`.
  it.each(packageNames)('%s: every `bin` target is committed executable (100755)', (name) => {
    const manifest = JSON.parse(readFileSync(path.join(packagesDir, name, 'package.json'), 'utf8'));
    for (const target of Object.values<string>(manifest.bin ?? {})) {
      const file = path.posix.join('packages', name, target);
      const staged = execFileSync('git', ['ls-files', '--stage', '--', file], {
        cwd: repoRoot,
        encoding: 'utf8',
      });
      expect(staged.split(' ')[0], file).toBe('100755');
    }
  });
});
