import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The bench reaches core, trainer and server only through their package exports; these checks keep
// those exports honest and the dependency one-way.
const PACKAGES = fileURLToPath(new URL('../../', import.meta.url));
const MEASURED = ['core', 'trainer', 'server'] as const;
const require = createRequire(import.meta.url);

function exportsOf(name: string): Record<string, string> {
  const manifest = JSON.parse(readFileSync(path.join(PACKAGES, name, 'package.json'), 'utf8')) as {
    exports?: Record<string, string>;
  };
  return manifest.exports ?? {};
}

describe.each(MEASURED)('@food/%s exports', (name) => {
  const entries = Object.entries(exportsOf(name));

  it('declares some', () => {
    expect(entries.length).toBeGreaterThan(0);
  });

  it.each(entries.filter(([subpath]) => !subpath.includes('*')))(
    '%s resolves through the package to an existing file',
    (subpath, target) => {
      const file = path.join(PACKAGES, name, target);
      expect(existsSync(file), `${target} does not exist`).toBe(true);
      expect(require.resolve(`@food/${name}/${subpath.slice(2)}`)).toBe(file);
    },
  );

  it.each(entries.filter(([subpath]) => subpath.includes('*')))(
    '%s maps into an existing folder',
    (_subpath, target) => {
      expect(existsSync(path.join(PACKAGES, name, path.dirname(target)))).toBe(true);
    },
  );
});

describe('the packages the bench measures', () => {
  it.each(MEASURED)('%s imports nothing from the bench', (name) => {
    const sources = readdirSync(path.join(PACKAGES, name), { recursive: true, encoding: 'utf8' }).filter(
      (file) => file.endsWith('.ts') && !file.split(path.sep).includes('node_modules'),
    );
    const offenders = sources.filter((file) =>
      /from '(@food\/bench|[./]+\/bench\/)/.test(readFileSync(path.join(PACKAGES, name, file), 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});
