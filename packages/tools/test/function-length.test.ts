import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/run-tools.ts';

// The project's rule (docs/architecture.md): no function over 80 lines in packages/*/src, CLI `register`s
// and report builders included. A function counts from its first line to its last, nested functions in it
// included, as a reader scrolls it; a long declarative table is data, not a function, and is not counted.
const MAX_LINES = 80;

interface LongFunction {
  file: string;
  line: number;
  lines: number;
}

/** Every function, method, arrow function and accessor with a body longer than `maxLines` in `file`. */
function longFunctions(file: string, text: string, maxLines: number): LongFunction[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: LongFunction[] = [];
  const lineOf = (position: number) => source.getLineAndCharacterOfPosition(position).line + 1;
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const line = lineOf(node.getStart(source));
      const lines = lineOf(node.getEnd()) - line + 1;
      if (lines > maxLines) found.push({ file, line, lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function sourceFiles(): string[] {
  const packagesDir = path.join(repoRoot, 'packages');
  return readdirSync(packagesDir).flatMap((name) => {
    const src = path.join(packagesDir, name, 'src');
    if (!existsSync(src)) return []; // deploy holds only tests
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((file) =>
      /\.m?ts$/.test(file),
    );
    return files.map((file) => path.relative(repoRoot, path.join(src, file)));
  });
}

describe(`functions in packages/*/src fit in ${MAX_LINES} lines`, () => {
  it('every function', () => {
    const offenders = sourceFiles()
      .flatMap((file) => longFunctions(file, readFileSync(path.join(repoRoot, file), 'utf8'), MAX_LINES))
      .map(({ file, line, lines }) => `${file}:${line} is ${lines} lines`);
    expect(offenders, 'split these into named steps').toEqual([]);
  });

  it('counts a function from its first line to its last, nested functions included', () => {
    const body = (lines: number) =>
      Array.from({ length: lines }, (_, index) => `  step${index}();`).join('\n');
    const text = `function outer() {\n${body(40)}\n  const inner = () => {\n${body(39)}\n  };\n}\n`;
    expect(longFunctions('a.ts', text, 80)).toEqual([{ file: 'a.ts', line: 1, lines: 83 }]);
    expect(
      longFunctions('a.ts', `const table = {\n${body(100).replaceAll('();', ': 1,')}\n};\n`, 80),
    ).toEqual([]);
  });
});
