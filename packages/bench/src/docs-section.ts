/**
 * A section of docs/benchmarks.md that one tool owns, between `<!-- NAME:start -->` and
 * `<!-- NAME:end -->` (`pnpm bench --write-docs` keeps such sections when it rewrites the page).
 */
import { readFile, writeFile } from 'node:fs/promises';

/** `text` with section NAME's body replaced by `body`, or the section appended when absent. */
export function replaceSection(text: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const section = `${start}\n${body.trim()}\n${end}`;
  const from = text.indexOf(start);
  const to = text.indexOf(end, from);
  if (from === -1 || to === -1) return `${text.trimEnd()}\n\n${section}\n`;
  return text.slice(0, from) + section + text.slice(to + end.length);
}

/** Rewrites section NAME of `file` (a missing file starts empty). */
export async function writeSection(file: string, name: string, body: string): Promise<void> {
  const text = await readFile(file, 'utf8').catch(() => '');
  await writeFile(file, replaceSection(text, name, body));
}
