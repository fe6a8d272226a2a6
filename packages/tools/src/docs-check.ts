/**
 * The docs check: every `pnpm …` command a page shows must run (a package.json script, a pnpm command or an
 * installed binary) with flags its `--help` lists, and every relative link and image must resolve, anchors
 * included. Commands' help comes from docs/cli.md, which `pnpm docs:cli` generates from each command's own
 * `--help` (its own test keeps it current), so the check spawns nothing.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIS, SCRIPTS } from './write-cli-reference.ts';

export interface DocProblem {
  /** The page, as given to `checkPage`. */
  file: string;
  line: number;
  message: string;
}

/** What a page is checked against. */
export interface DocsContext {
  /** The root package.json scripts. */
  scripts: Readonly<Record<string, string>>;
  /** Script name → the docs/cli.md heading of the command it runs, when it takes no subcommand (`train`). */
  scriptCommands: ReadonlyMap<string, string>;
  /** Script name → program name, for scripts that take a subcommand (`trainer` → `food-trainer`). */
  scriptPrograms: ReadonlyMap<string, string>;
  /** docs/cli.md heading (`food-trainer train`, `pnpm bench`) → the flags its help lists. */
  commandFlags: ReadonlyMap<string, ReadonlySet<string>>;
  /** Names in node_modules/.bin (pnpm runs them: `pnpm vitest`). */
  binaries: ReadonlySet<string>;
  /** Whether a path (absolute) exists. */
  exists(file: string): boolean;
  /** The heading anchors of a markdown file (absolute path), or undefined when it cannot be read. */
  anchorsOf(file: string): ReadonlySet<string> | undefined;
}

/** pnpm's own commands that a page may show (https://pnpm.io/cli); `test` is left out: it runs the script. */
const PNPM_BUILTINS = new Set([
  'add',
  'approve-builds',
  'deploy',
  'dlx',
  'doctor',
  'exec',
  'i',
  'install',
  'rebuild',
  'remove',
  'run',
  'update',
  'why',
]);

/** Flags every commander program takes. */
const UNIVERSAL_FLAGS = new Set(['--help', '-h']);

interface Located {
  line: number;
  text: string;
}

/** Blanks fenced code blocks out of `markdown`, keeping line numbers, and returns the blocks. */
function splitFences(markdown: string): { prose: string; blocks: Array<Located & { lang: string }> } {
  const lines = markdown.split('\n');
  const blocks: Array<Located & { lang: string }> = [];
  let open: { fence: string; lang: string; start: number; body: string[] } | undefined;
  const prose = lines.map((line, index) => {
    const fence = /^\s*(`{3,}|~{3,})\s*([\w-]*)/.exec(line);
    if (open) {
      if (fence?.[1]?.startsWith(open.fence) && line.trim() === fence[1]) {
        blocks.push({ line: open.start + 1, text: open.body.join('\n'), lang: open.lang });
        open = undefined;
      } else {
        open.body.push(line);
      }
      return '';
    }
    if (fence?.[1]) {
      open = { fence: fence[1], lang: fence[2] ?? '', start: index + 1, body: [] };
      return '';
    }
    return line;
  });
  return { prose: prose.join('\n'), blocks };
}

function lineAt(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}

/** `pnpm …` (or `npx --yes pnpm@X …`) at the start of a shell segment, from `pnpm` on. */
function pnpmCommand(segment: string): string | undefined {
  const match = /^(?:npx\s+(?:--yes\s+)?)?pnpm(?:@[\w.-]+)?(\s.*)?$/.exec(segment.trim());
  return match ? `pnpm${match[1] ?? ''}`.trim() : undefined;
}

/** Splits a shell line at `&&`, `||`, `;` and `|` outside quotes, and drops a trailing `# comment`. */
function shellSegments(line: string): string[] {
  const segments: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (quote) {
      if (char === quote) quote = undefined;
      current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      current += char;
    } else if (char === '#' && (i === 0 || /\s/.test(line[i - 1] as string))) {
      break;
    } else if (char === ';' || char === '|' || (char === '&' && line[i + 1] === '&')) {
      segments.push(current);
      current = '';
      if (line[i + 1] === char) i++;
    } else {
      current += char;
    }
  }
  segments.push(current);
  return segments;
}

/**
 * Every `pnpm …` command of a page with its line: in shell code blocks (continuation lines joined), on
 * `$ pnpm` / `pnpm` lines of text blocks (help examples) and in inline code spans of the prose.
 */
export function findPnpmCommands(markdown: string): Located[] {
  const { prose, blocks } = splitFences(markdown);
  const commands: Located[] = [];
  for (const block of blocks) {
    const shell = ['', 'sh', 'bash', 'shell', 'console'].includes(block.lang);
    if (!shell && block.lang !== 'text') continue;
    const lines = block.text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const start = i;
      let line = lines[i] as string;
      while (shell && line.trimEnd().endsWith('\\') && i + 1 < lines.length) {
        line = `${line.trimEnd().slice(0, -1)} ${lines[++i]}`;
      }
      const text = line
        .trim()
        .replace(/^\$\s+/, '')
        .replace(/\s+/g, ' ');
      if (!shell && !text.startsWith('pnpm ')) continue;
      for (const segment of shellSegments(text)) {
        const command = pnpmCommand(segment);
        if (command) commands.push({ line: block.line + start, text: command });
      }
    }
  }
  for (const match of prose.matchAll(/(`+)([^`]+?)\1/g)) {
    const command = pnpmCommand((match[2] as string).replace(/\s+/g, ' '));
    if (command) commands.push({ line: lineAt(prose, match.index), text: command });
  }
  return commands.sort((a, b) => a.line - b.line);
}

/** Shell-like words: quotes group and are removed. */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  for (const match of command.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) {
    words.push(match[1] ?? match[2] ?? (match[3] as string));
  }
  return words;
}

const isFlag = (word: string) => /^--?[A-Za-z]/.test(word);
/** A word standing for something the reader fills in: `<command>`, `...`, `DIR`, `[--tta flip]`. */
const isPlaceholder = (word: string) => /[<>[\]…]|^\.\.\.$|^[A-Z][A-Z_]+$/.test(word);

/** The problem with one `pnpm …` command, or undefined when it runs with flags its help lists. */
export function checkCommand(command: string, context: DocsContext): string | undefined {
  const words = shellWords(command).slice(1);
  if (words.length === 0 || isFlag(words[0] as string)) return undefined; // `pnpm`, `pnpm --filter X exec`
  let [name, ...args] = words as [string, ...string[]];
  const viaRun = name === 'run' && args[0] !== undefined;
  if (viaRun) [name, ...args] = args as [string, ...string[]];
  if (isPlaceholder(name)) return undefined;
  // pnpm's own commands win over scripts of the same name (`pnpm doctor` is not `pnpm run doctor`).
  if (!viaRun && PNPM_BUILTINS.has(name)) return undefined;
  if (!(name in context.scripts)) {
    if (context.binaries.has(name)) return undefined;
    return `\`pnpm ${name}\` is neither a package.json script nor a pnpm command nor an installed binary`;
  }
  const heading = helpHeading(name, args, context);
  if (heading === undefined) return undefined; // `pnpm trainer <command>`, or arguments for vitest, tsc…
  const flags = context.commandFlags.get(heading);
  if (flags === undefined) return `\`${heading}\` is not a command (docs/cli.md has no section for it)`;
  const unknown = args
    .filter((word) => isFlag(word) && !isPlaceholder(word))
    .map((word) => word.split('=')[0] as string)
    .filter((flag) => !flags.has(flag) && !UNIVERSAL_FLAGS.has(flag));
  if (unknown.length === 0) return undefined;
  return `${unknown.join(', ')}: not ${unknown.length === 1 ? 'an option' : 'options'} of \`${heading}\` (docs/cli.md)`;
}

/** The docs/cli.md heading whose help lists the flags of `pnpm SCRIPT ARGS`. */
function helpHeading(script: string, args: readonly string[], context: DocsContext): string | undefined {
  const direct = context.scriptCommands.get(script);
  if (direct !== undefined) return nestedHeading(direct, args, context);
  const program = context.scriptPrograms.get(script);
  const command = args.find((word) => !isFlag(word));
  if (program === undefined || command === undefined || isPlaceholder(command)) return undefined;
  return nestedHeading(`${program} ${command}`, args.slice(args.indexOf(command) + 1), context);
}

/** `food-trainer runs` followed by `compare …` is `food-trainer runs compare`, which has its own help. */
function nestedHeading(heading: string, args: readonly string[], context: DocsContext): string {
  const nested = `${heading} ${args.find((word) => !isFlag(word))}`;
  return context.commandFlags.has(nested) ? nested : heading;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

/** Every anchor a page offers: its headings (duplicates numbered as GitHub does) and `<a id|name>`. */
export function anchorsOf(markdown: string): Set<string> {
  const { prose } = splitFences(markdown);
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of prose.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = headingAnchor(match[1] as string);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  for (const match of prose.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1] as string);
  return anchors;
}

/** Relative link and image targets of the prose (code blocks and code spans are not links). */
export function findLinks(markdown: string): Located[] {
  const { prose } = splitFences(markdown);
  const text = prose.replace(/(`+)[^`]*?\1/g, (span) => span.replace(/[^\n]/g, ' '));
  const links: Located[] = [];
  const patterns = [
    /!?\[(?:[^\][]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g,
    /^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm,
    /<(?:img|a)\s[^>]*?(?:src|href)="([^"]+)"/g,
  ];
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) {
      const target = match[1] as string;
      if (/^[a-z][a-z\d+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      links.push({ line: lineAt(text, match.index), text: target });
    }
  }
  return links.sort((a, b) => a.line - b.line);
}

/**
 * The problem with a relative link from `file` (whose own anchors are `ownAnchors`), or undefined when its
 * file and anchor exist.
 */
export function checkLink(
  file: string,
  target: string,
  ownAnchors: ReadonlySet<string>,
  context: DocsContext,
): string | undefined {
  const [rawPath = '', anchor] = target.split('#', 2);
  const linked = rawPath === '' ? file : path.resolve(path.dirname(file), decodeURIComponent(rawPath));
  if (rawPath !== '' && !context.exists(linked)) return `link ${target}: ${rawPath} does not exist`;
  if (!anchor || !linked.endsWith('.md')) return undefined;
  const anchors = rawPath === '' ? ownAnchors : context.anchorsOf(linked);
  if (anchors?.has(anchor.toLowerCase())) return undefined;
  return `link ${target}: ${rawPath || 'this page'} has no heading with the anchor #${anchor}`;
}

/** Every problem of one page (`file` is its absolute path, for relative links). */
export function checkPage(file: string, markdown: string, context: DocsContext): DocProblem[] {
  const problems: DocProblem[] = [];
  for (const { line, text } of findPnpmCommands(markdown)) {
    const message = checkCommand(text, context);
    if (message) problems.push({ file, line, message: `\`${text}\`: ${message}` });
  }
  const ownAnchors = anchorsOf(markdown);
  for (const { line, text } of findLinks(markdown)) {
    const message = checkLink(file, text, ownAnchors, context);
    if (message) problems.push({ file, line, message });
  }
  return problems.sort((a, b) => a.line - b.line);
}

/** docs/cli.md's `### HEADING` sections → the option flags their help lists (`  -h, --help  …` lines). */
export function flagsByCommand(cliReference: string): Map<string, Set<string>> {
  const flags = new Map<string, Set<string>>();
  for (const match of cliReference.matchAll(/^### (.+)\n\n```text\n([\s\S]*?)\n```/gm)) {
    const options = (match[2] as string).split(/^Options:\s*$/m)[1] ?? '';
    const listed = new Set<string>();
    for (const line of options.split('\n')) {
      if (line.trim() !== '' && !line.startsWith(' ')) break; // the text after the options
      const definition = /^ {2}((?:-[A-Za-z], )?--?[A-Za-z][\w-]*)/.exec(line)?.[1];
      for (const flag of definition?.split(', ') ?? []) listed.add(flag);
    }
    flags.set(match[1] as string, listed);
  }
  return flags;
}

/** The repository CLIS' entries lie in (a checked `repoRoot` may be another copy of it). */
const CLIS_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The pages the check reads: the READMEs and docs/. */
export function docPages(repoRoot: string): string[] {
  const docs = readdirSync(path.join(repoRoot, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => path.join(repoRoot, 'docs', name));
  const readmes = ['README.md', 'docker/README.md', 'data/README.md', 'checkpoints/README.md']
    .map((name) => path.join(repoRoot, name))
    .filter((file) => existsSync(file));
  return [...readmes, ...docs];
}

/** The repository's scripts, docs/cli.md's flags, its installed binaries and its files. */
export function loadDocsContext(repoRoot: string): DocsContext {
  const scripts: Record<string, string> = JSON.parse(
    readFileSync(path.join(repoRoot, 'package.json'), 'utf8'),
  ).scripts;
  const scriptCommands = new Map<string, string>();
  const scriptPrograms = new Map<string, string>();
  for (const [name, line] of Object.entries(scripts)) {
    const match = /\btsx\s+(\S+\.ts)(?:\s+([a-z][\w-]*))?/.exec(line);
    if (!match) continue;
    const cli = CLIS.find(
      ({ entry }) => path.relative(CLIS_ROOT, entry) === path.normalize(match[1] as string),
    );
    if (cli && match[2]) scriptCommands.set(name, `${cli.name} ${match[2]}`);
    else if (cli) scriptPrograms.set(name, cli.name);
    else if (SCRIPTS.includes(name)) scriptCommands.set(name, `pnpm ${name}`);
  }
  const anchors = new Map<string, Set<string> | undefined>();
  return {
    scripts,
    scriptCommands,
    scriptPrograms,
    commandFlags: flagsByCommand(readFileSync(path.join(repoRoot, 'docs/cli.md'), 'utf8')),
    binaries: new Set(
      existsSync(path.join(repoRoot, 'node_modules/.bin'))
        ? readdirSync(path.join(repoRoot, 'node_modules/.bin'))
        : [],
    ),
    exists: existsSync,
    anchorsOf(file) {
      if (!anchors.has(file)) {
        anchors.set(file, existsSync(file) ? anchorsOf(readFileSync(file, 'utf8')) : undefined);
      }
      return anchors.get(file);
    },
  };
}
