#!/usr/bin/env -S npx tsx
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BACKEND_CHOICES_HELP, type BackendName, parseBackendName } from '@food/core/backend';
import { ENGINE_CHOICES, type EngineChoice } from '@food/core/engine/resolve-engine';
import { UserError } from '@food/core/errors';
import { integerIn } from '@food/core/parse-number';
import { packageVersion, runCommandLine } from '@food/core/run-command-line';
import { Command, Option } from 'commander';
import { byteSizeIn, serverUrl } from './cli-options.ts';
import { formatPredictions } from './client/format-predictions.ts';
import { expandImagePaths } from './client/image-paths.ts';
import { type PredictResponse, predictImage } from './client/predict-client.ts';
import { DEFAULTS, ENVIRONMENT, LOG_LEVELS, type LogLevel, type ServerConfig } from './config.ts';
import { runLoadTest } from './load-test.ts';
import { LOG_FORMATS } from './logger.ts';
import { closeOnSignals, startServer } from './server.ts';

/** `food-server`: serve a checkpoint, classify files against a server, load-test it. Flags only; work lives elsewhere. */
export function buildProgram(): Command {
  const program = new Command('food-server')
    .description('Serve a food classifier checkpoint over HTTP, and classify photos with it.')
    .version(packageVersion(import.meta.url), '--version', 'print the version')
    .showHelpAfterError('(run with --help for usage and examples)')
    .exitOverride();

  const env = (option: Option, key: keyof typeof ENVIRONMENT) => option.env(ENVIRONMENT[key]);
  program
    .command('serve')
    .description('Start the HTTP API, web UI (/), API docs (/docs) and metrics (/metrics).')
    .addOption(
      env(
        new Option(
          '--checkpoint <dir>',
          'checkpoint folder (model.json, labels.json, ...)',
        ).makeOptionMandatory(),
        'checkpoint',
      ),
    )
    .addOption(env(new Option('--host <host>', 'interface to listen on').default(DEFAULTS.host), 'host'))
    .addOption(
      env(
        new Option('--port <port>', 'port (0: any free port)')
          .default(DEFAULTS.port)
          .argParser(integerIn(0, 65535)),
        'port',
      ),
    )
    .addOption(
      env(
        new Option('--backend <name>', `TensorFlow.js backend: ${BACKEND_CHOICES_HELP}`)
          .argParser(parseBackendName)
          .default(DEFAULTS.backend),
        'backend',
      ),
    )
    .addOption(
      env(
        new Option(
          '--engine <name>',
          'inference engine: auto (the ONNX export beside the checkpoint, int8 first, else tfjs), tfjs (on --backend) or onnx (ONNX Runtime)',
        )
          .choices(ENGINE_CHOICES)
          .default(DEFAULTS.engine),
        'engine',
      ),
    )
    .addOption(
      env(
        new Option(
          '--onnx-model <file>',
          'exported model for --engine onnx|auto (default: CHECKPOINT.int8.onnx if present, else CHECKPOINT.onnx)',
        ),
        'onnxModel',
      ),
    )
    .addOption(
      env(
        new Option('--report <dir>', 'evaluation report (pnpm evaluate --out) shown on the model card'),
        'report',
      ),
    )
    .addOption(
      env(
        new Option('--workers <n>', 'inference worker threads (0: run the model on the main thread)')
          .default(DEFAULTS.workers, 'CPU cores')
          .argParser(integerIn(0, 64)),
        'workers',
      ),
    )
    .addOption(
      env(
        new Option('--max-batch <n>', 'most images per forward pass')
          .default(DEFAULTS.maxBatch)
          .argParser(integerIn(1, 256)),
        'maxBatch',
      ),
    )
    .addOption(
      env(
        new Option('--batch-timeout-ms <ms>', 'how long an image may wait for others to share its batch')
          .default(DEFAULTS.batchTimeoutMs)
          .argParser(integerIn(0, 10_000)),
        'batchTimeoutMs',
      ),
    )
    .addOption(
      env(
        new Option('--max-queue <n>', 'most images waiting; beyond it requests get 503 + Retry-After')
          .default(DEFAULTS.maxQueue)
          .argParser(integerIn(1, 100_000)),
        'maxQueue',
      ),
    )
    .addOption(
      env(
        new Option('--max-upload-bytes <size>', 'largest upload (413 above), e.g. 10MiB')
          .default(DEFAULTS.maxUploadBytes, '10MiB')
          .argParser(byteSizeIn(1024, 1024 ** 3)),
        'maxUploadBytes',
      ),
    )
    .addOption(
      env(
        new Option('--max-pixels <n>', 'largest decoded width × height (413 above)')
          .default(DEFAULTS.maxPixels)
          .argParser(integerIn(1, 1_000_000_000)),
        'maxPixels',
      ),
    )
    .addOption(
      env(
        new Option('--drain-delay-ms <ms>', 'on SIGTERM, answer 503 (readiness too) this long before closing')
          .default(DEFAULTS.drainDelayMs)
          .argParser(integerIn(0, 600_000)),
        'drainDelayMs',
      ),
    )
    .addOption(
      env(
        new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default(DEFAULTS.logLevel),
        'logLevel',
      ),
    )
    .addOption(
      env(
        new Option('--log-format <format>', 'auto: readable in a terminal, JSON lines otherwise')
          .choices(LOG_FORMATS)
          .default(DEFAULTS.logFormat),
        'logFormat',
      ),
    )
    .addHelpText(
      'after',
      `
Every flag can also be set by the environment variable shown; flags win.

Examples:
  pnpm serve --checkpoint checkpoints/food10/best
  pnpm serve --checkpoint checkpoints/food10/best --host 0.0.0.0 --port 8080 --workers 2
  CHECKPOINT=checkpoints/food10/best PORT=8080 pnpm serve
  pnpm serve --checkpoint checkpoints/food10/best --workers 0 --backend cpu   # model on the main thread
  pnpm serve --checkpoint checkpoints/food10/best --engine tfjs               # ignore the ONNX export

Then open http://127.0.0.1:5000 (web UI), /docs (API), /metrics (Prometheus).
`,
    )
    .action(async (options: ServeFlags) => {
      const server = await startServer({
        ...options,
        backend: options.backend as BackendName,
        engine: options.engine as EngineChoice,
      });
      closeOnSignals(server, options.drainDelayMs);
    });

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
    .option('--json', 'print one JSON array instead of text')
    .option('--retries <n>', 'retries when the server answers 503 (busy or loading)', integerIn(0, 20), 3)
    .addHelpText(
      'after',
      `
Examples:
  pnpm predict photos/ramen.jpg
  pnpm predict --url http://127.0.0.1:8080 --top-k 3 photos/*.jpg
  pnpm predict --json photos/ramen.jpg | jq '.[0].predictions[0]'
  pnpm predict photos/                      # every image directly in the folder
`,
    )
    .action(async (images: string[], options: PredictFlags) => {
      await predictFiles(images, options);
    });

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
        contentType: contentTypeOf(options.image),
        durationSeconds: options.duration,
        connections: options.connections,
      });
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    });

  for (const command of program.commands) command.exitOverride().showHelpAfterError();
  return program;
}

type ServeFlags = Omit<ServerConfig, 'backend' | 'engine' | 'logLevel'> & {
  backend: string;
  engine: string;
  logLevel: LogLevel;
};

interface PredictFlags {
  url: string;
  topK: number;
  json?: boolean;
  retries: number;
}

async function predictFiles(files: string[], options: PredictFlags): Promise<void> {
  const results: Array<{ file: string } & (PredictResponse | { error: string })> = [];
  let failed = 0;
  for (const file of await expandImagePaths(files)) {
    try {
      const response = await predictImage(await readImageFile(file), path.basename(file), {
        url: options.url,
        topK: options.topK,
        retries: options.retries,
      });
      results.push({ file, ...response });
      if (!options.json) process.stdout.write(`${formatPredictions(file, response)}\n`);
    } catch (error) {
      // An unreachable server fails every file the same way: say it once.
      if (error instanceof UserError && error.code === 'SERVER_UNREACHABLE') throw error;
      if (!(error instanceof UserError)) throw error;
      failed += 1;
      results.push({ file, error: error.message });
      if (!options.json) process.stderr.write(`error: ${error.message}\n`);
    }
  }
  if (options.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  if (failed > 0) process.exitCode = 1;
}

async function readImageFile(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT' ? `${file}: no such file; check the path.` : `${file}: cannot read (${code}).`,
      'FILE_UNREADABLE',
    );
  }
}

function contentTypeOf(file: string): string {
  const extension = path.extname(file).toLowerCase().slice(1);
  const types: Record<string, string> = {
    jpg: 'image/jpeg',
    jpeg: 'image/jpeg',
    png: 'image/png',
    webp: 'image/webp',
    gif: 'image/gif',
  };
  return types[extension] ?? 'application/octet-stream';
}

// Only when run as the entry point, so tests can import buildProgram.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runCommandLine(buildProgram(), process.argv);
}
