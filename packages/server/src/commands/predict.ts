import { integerIn } from '@food/core/parse-number';
import { type Command, Option } from 'commander';
import { serverUrl } from '../cli-options.ts';
import { type PredictFlags, predictFiles } from '../client/predict-files.ts';

/** `food-server predict`: classify files with a running server (the work is in client/predict-files.ts). */
export function register(program: Command): void {
  program
    .command('predict')
    .description('Classify image files with a running server and print the top labels.')
    .argument('<images...>', 'image files (JPEG, PNG, WebP, GIF, AVIF, TIFF), or folders of them')
    .addOption(
      new Option('--url <url>', 'server URL')
        .default('http://127.0.0.1:5000')
        .argParser(serverUrl)
        .env('SERVER_URL'),
    )
    .option('--top-k <k>', 'labels per image', integerIn(1, 1000), 5)
    .option('--json', 'print one JSON array instead of text (through pnpm: `pnpm -s predict --json`)')
    .option('--retries <n>', 'retries when the server answers 503 (busy or loading)', integerIn(0, 20), 3)
    .addHelpText(
      'after',
      `
Examples:
  pnpm predict photos/ramen.jpg
  pnpm predict --url http://127.0.0.1:8080 --top-k 3 photos/*.jpg
  pnpm -s predict --json photos/ramen.jpg | jq '.[0].predictions[0]'   # -s: no pnpm header on stdout
  pnpm predict photos/                      # every image directly in the folder
`,
    )
    .action(async (images: string[], options: PredictFlags) => {
      await predictFiles(images, options);
    });
}
