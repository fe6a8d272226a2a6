import { integerIn } from '@food/core/parse-number';
import { type Command, Option } from 'commander';
import { serverUrl } from '../cli-options.ts';
import { imageContentType, readImageFile } from '../client/image-file.ts';
import { runLoadTest } from '../load-test.ts';

/** `food-server load-test`: post one image at a running server for a while, print autocannon's summary. */
export function register(program: Command): void {
  program
    .command('load-test')
    .description(
      'Load-test a running server with autocannon (bounded duration) and print requests/s and latency.',
    )
    .requiredOption('--image <file>', 'image posted in every request')
    .addOption(new Option('--url <url>', 'server URL').default('http://127.0.0.1:5000').argParser(serverUrl))
    .option('--duration <seconds>', 'how long to send requests', integerIn(1, 120), 10)
    .option('--connections <n>', 'concurrent connections', integerIn(1, 256), 8)
    .addHelpText(
      'after',
      `
Examples:
  pnpm exec tsx packages/server/src/cli.ts load-test --image photo.jpg
  pnpm exec tsx packages/server/src/cli.ts load-test --image photo.jpg --duration 30 --connections 16
`,
    )
    .action(async (options: { image: string; url: string; duration: number; connections: number }) => {
      const image = await readImageFile(options.image);
      const report = await runLoadTest({
        url: options.url,
        image,
        contentType: imageContentType(options.image),
        durationSeconds: options.duration,
        connections: options.connections,
      });
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    });
}
