import { parseInteger, parsePositiveInteger } from '@food/core/parse-number';
import type { Command } from 'commander';
import { synthesizeDataset } from '../data/synth.ts';

export function register(program: Command): void {
  program
    .command('synth')
    .description('Write a small synthetic data set in the official Food-101 layout (for tests and demos).')
    .requiredOption('--out <dir>', 'folder to create (must not already hold images/ or meta/)')
    .option('--classes <n>', 'number of classes (Food-101 names, then class_NNN)', parsePositiveInteger, 6)
    .option(
      '--images-per-class <n>',
      'images per class, split 75:25 train:test (at least 4)',
      parsePositiveInteger,
      24,
    )
    .option('--seed <n>', 'random seed; the same seed writes byte-identical files', parseInteger, 42)
    .addHelpText(
      'after',
      `
Examples:
  $ pnpm trainer synth --out data/synth
  $ pnpm trainer synth --out /tmp/synth12 --classes 12 --images-per-class 40 --seed 7
  $ pnpm trainer prepare --data data/synth --out data/prepared/synth --classes 6`,
    )
    .action(async (options: { out: string; classes: number; imagesPerClass: number; seed: number }) => {
      const started = performance.now();
      const result = await synthesizeDataset({
        outDir: options.out,
        classes: options.classes,
        imagesPerClass: options.imagesPerClass,
        seed: options.seed,
      });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      process.stdout.write(
        `wrote ${result.train + result.test} images (${result.train} train, ${result.test} test) of ` +
          `${result.classes.length} classes to ${options.out} in ${seconds} s\n`,
      );
    });
}
