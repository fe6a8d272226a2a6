import { parsePositiveInteger } from '@food/core/parse-number';
import type { Command } from 'commander';
import { computeTrainingStats } from '../data/stats.ts';
import { NO_PROGRESS_HELP, progressMode } from '../progress.ts';

export function register(program: Command): void {
  program
    .command('stats')
    .description(
      'Per-channel mean/std of the training split after the evaluation resize + centre crop; writes DIR/preprocess.json.',
    )
    .requiredOption('--prepared <dir>', 'prepared folder written by `trainer prepare`')
    .option('--concurrency <n>', 'images decoded in parallel', parsePositiveInteger, 4)
    .option(
      '--limit <n>',
      'use only N training images spread over all classes (a quick estimate)',
      parsePositiveInteger,
    )
    .option('--no-progress', NO_PROGRESS_HELP)
    .addHelpText(
      'after',
      `
Statistics are exact over every pixel (population std, not an average of per-batch stds), in 0..1 scale.
The geometry (resize, crop, interpolation) of an existing preprocess.json is kept; otherwise the defaults
(256 / 224 / bilinear) are used.

Examples:
  $ pnpm trainer stats --prepared data/prepared/food10
  $ pnpm trainer stats --prepared data/prepared/seed50 --concurrency 8
  $ pnpm trainer stats --prepared data/prepared/seed50 --limit 2000`,
    )
    .action(async (flags: { prepared: string; concurrency: number; limit?: number; progress: boolean }) => {
      const started = performance.now();
      const { config, configPath, images, pixels } = await computeTrainingStats({
        preparedDir: flags.prepared,
        concurrency: flags.concurrency,
        limit: flags.limit,
        showProgress: progressMode(flags.progress),
      });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const triple = (values: number[]) => `[${values.map((v) => v.toFixed(4)).join(', ')}]`;
      process.stdout.write(
        `wrote ${configPath}: mean ${triple(config.mean)}, std ${triple(config.std)} ` +
          `over ${images} images (${pixels} pixels per channel) in ${seconds} s\n`,
      );
    });
}
