import { UserError } from '@food/core/errors';
import { parseInteger, parseOpenFraction, parsePositiveInteger } from '@food/core/parse-number';
import { type Command, Option } from 'commander';
import { CLASS_PRESETS, type ClassSelection, describeSelection } from '../data/class-sampler.ts';
import { prepareDataset } from '../data/prepare.ts';
import type { CheckLevel } from '../data/verify-images.ts';
import { NO_PROGRESS_HELP, progressMode } from '../progress.ts';

interface PrepareFlags {
  data: string;
  out: string;
  preset?: string;
  classes?: number;
  classList?: string[];
  seed: number;
  valFraction: number;
  skipCorrupt: boolean;
  check: CheckLevel;
  concurrency: number;
  progress: boolean;
}

function classSelection(flags: PrepareFlags): ClassSelection {
  const given = [flags.preset, flags.classes, flags.classList].filter((value) => value !== undefined).length;
  if (given !== 1) {
    throw new UserError('choose the classes with exactly one of --preset, --classes or --class-list');
  }
  if (flags.preset !== undefined) return { preset: flags.preset };
  if (flags.classes !== undefined) return { count: flags.classes };
  return { list: flags.classList! };
}

const parseClassList = (value: string): string[] =>
  value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');

export function register(program: Command): void {
  program
    .command('prepare')
    .description(
      'Pick classes, split train/val/test, check every image decodes, and write OUT/manifest.json (no image is copied).',
    )
    .requiredOption(
      '--data <dir>',
      'Food-101 folder holding images/ and meta/ (stored in the manifest as an absolute path)',
    )
    .requiredOption('--out <dir>', 'prepared folder to write, e.g. data/prepared/seed50')
    .addOption(
      new Option('--preset <name>', "a fixed class list (seed50: the recipe's 50 classes)").choices(
        Object.keys(CLASS_PRESETS),
      ),
    )
    .option(
      '--classes <n>',
      'sample N classes with --seed (all of them when N equals the number available); not a preset',
      parsePositiveInteger,
    )
    .option('--class-list <names>', 'comma-separated class names', parseClassList)
    .option('--seed <n>', 'seed for class sampling and the train/val split', parseInteger, 42)
    .option(
      '--val-fraction <f>',
      "share of each class's training images held out for validation",
      parseOpenFraction,
      0.1,
    )
    .option(
      '--skip-corrupt',
      'leave out missing/undecodable images (listed under "skipped") instead of stopping',
      false,
    )
    .addOption(
      new Option(
        '--check <level>',
        'full: decode every pixel (catches truncated files); header: headers only, faster',
      )
        .choices(['full', 'header'])
        .default('full'),
    )
    .option('--concurrency <n>', 'images checked in parallel', parsePositiveInteger, 8)
    .option('--no-progress', NO_PROGRESS_HELP)
    .addHelpText(
      'after',
      `
The official test list becomes the test split; each class's official training images are split
train/val (round(n x fraction) to val per class). Label index = position in the sorted class names.
Run \`pnpm trainer stats --prepared OUT\` next: it writes OUT/preprocess.json, which training needs.

Examples:
  $ pnpm trainer prepare --data ../shared/data/food10 --out data/prepared/food10 --classes 10 --seed 42
  $ pnpm trainer prepare --data data/food-101 --out data/prepared/seed50 --preset seed50
  $ pnpm trainer prepare --data data/synth --out data/prepared/two --class-list apple_pie,baklava --skip-corrupt`,
    )
    .action(prepare);
}

async function prepare(flags: PrepareFlags): Promise<void> {
  const started = performance.now();
  const selection = classSelection(flags);
  const { manifest, manifestPath, removedStaleStats } = await prepareDataset({
    dataRoot: flags.data,
    outDir: flags.out,
    selection,
    seed: flags.seed,
    valFraction: flags.valFraction,
    skipCorrupt: flags.skipCorrupt,
    check: flags.check,
    concurrency: flags.concurrency,
    showProgress: progressMode(flags.progress),
  });
  const { train, val, test } = manifest.counts;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const lines = [
    `wrote ${manifestPath}: ${manifest.classes.length} classes, train ${train}, val ${val}, test ${test} (${seconds} s)`,
    describeSelection(selection, manifest.classes.length, flags.seed),
  ];
  if (manifest.skipped.length > 0)
    lines.push(`skipped ${manifest.skipped.length} unreadable images (see "skipped")`);
  if (removedStaleStats)
    lines.push('removed the old preprocess.json: it described a different training split');
  lines.push(`next: pnpm trainer stats --prepared ${flags.out}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
