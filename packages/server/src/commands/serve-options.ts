import { BACKEND_CHOICES_HELP, parseBackendName } from '@food/core/backend';
import { ENGINE_CHOICES } from '@food/core/engine/resolve-engine';
import { integerIn } from '@food/core/parse-number';
import { Option } from 'commander';
import { byteSizeIn } from '../cli-options.ts';
import { DEFAULTS, ENVIRONMENT, LOG_LEVELS, type LogLevel, type ServerConfig } from '../config.ts';
import { LOG_FORMATS } from '../logger.ts';

/** What commander hands the `serve` action: a ServerConfig whose backend and engine are still strings. */
export type ServeFlags = Omit<ServerConfig, 'backend' | 'engine' | 'logLevel'> & {
  backend: string;
  engine: string;
  logLevel: LogLevel;
};

/**
 * Every `serve` flag, in the order `--help` lists them, each with its default, its parser and the
 * environment variable that sets it when the flag is absent (config.ts names them).
 */
export function serveOptions(): Option[] {
  return [
    ...checkpointAndAddressOptions(),
    ...engineOptions(),
    ...batchingOptions(),
    ...limitOptions(),
    ...logOptions(),
  ];
}

const env = (option: Option, key: keyof typeof ENVIRONMENT) => option.env(ENVIRONMENT[key]);

/** The settings whose default is a number (and that have an environment variable). */
type IntegerSetting = {
  [K in keyof typeof DEFAULTS]: (typeof DEFAULTS)[K] extends number ? K : never;
}[keyof typeof DEFAULTS] &
  keyof typeof ENVIRONMENT;

/** A whole-number setting: its DEFAULTS value, its environment variable and the range its parser accepts. */
function integerOption(
  key: IntegerSetting,
  flags: string,
  help: string,
  [min, max]: [number, number],
  shownDefault?: string,
): Option {
  return env(
    new Option(flags, help).default(DEFAULTS[key], shownDefault).argParser(integerIn(min, max)),
    key,
  );
}

/** What to serve, and where. */
function checkpointAndAddressOptions(): Option[] {
  return [
    env(
      new Option(
        '--checkpoint <dir>',
        'checkpoint folder, e.g. checkpoints/RUN/best (a run folder means its best)',
      ).makeOptionMandatory(),
      'checkpoint',
    ),
    env(new Option('--host <host>', 'interface to listen on').default(DEFAULTS.host), 'host'),
    integerOption('port', '--port <port>', 'port (0: any free port)', [0, 65535]),
  ];
}

/** What runs the model, and what its card shows. */
function engineOptions(): Option[] {
  return [
    env(
      new Option('--backend <name>', `TensorFlow.js backend: ${BACKEND_CHOICES_HELP}`)
        .argParser(parseBackendName)
        .default(DEFAULTS.backend),
      'backend',
    ),
    env(
      new Option(
        '--engine <name>',
        'inference engine: auto (the ONNX export beside the checkpoint, int8 first, else tfjs), tfjs (on --backend) or onnx (ONNX Runtime)',
      )
        .choices(ENGINE_CHOICES)
        .default(DEFAULTS.engine),
      'engine',
    ),
    env(
      new Option(
        '--onnx-model <file>',
        'exported model for --engine onnx|auto (default: CHECKPOINT.int8.onnx if present, else CHECKPOINT.onnx)',
      ),
      'onnxModel',
    ),
    env(
      new Option(
        '--report <dir>',
        'evaluation report (pnpm evaluate --out) shown on the model card (default: the newest test report about the checkpoint in reports/)',
      ),
      'report',
    ),
  ];
}

/** Threads, batches and the queue. */
function batchingOptions(): Option[] {
  return [
    integerOption(
      'workers',
      '--workers <n>',
      'inference worker threads (0: run the model on the main thread)',
      [0, 64],
      'CPU cores',
    ),
    integerOption('maxBatch', '--max-batch <n>', 'most images per forward pass', [1, 256]),
    integerOption(
      'batchTimeoutMs',
      '--batch-timeout-ms <ms>',
      'with one worker (or none): how long an image may wait for others to share its batch',
      [0, 10_000],
    ),
    integerOption(
      'maxQueue',
      '--max-queue <n>',
      'most images waiting; beyond it requests get 503 + Retry-After',
      [1, 100_000],
    ),
  ];
}

/** What one request may send, and how long a stopping server keeps answering. */
function limitOptions(): Option[] {
  return [
    env(
      new Option('--max-upload-bytes <size>', 'largest upload (413 above), e.g. 10MiB')
        .default(DEFAULTS.maxUploadBytes, '10MiB')
        .argParser(byteSizeIn(1024, 1024 ** 3)),
      'maxUploadBytes',
    ),
    integerOption(
      'maxPixels',
      '--max-pixels <n>',
      'largest decoded width × height (413 above)',
      [1, 1_000_000_000],
    ),
    integerOption(
      'drainDelayMs',
      '--drain-delay-ms <ms>',
      'on SIGTERM, answer 503 (readiness too) this long before closing',
      [0, 600_000],
    ),
  ];
}

function logOptions(): Option[] {
  return [
    env(
      new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default(DEFAULTS.logLevel),
      'logLevel',
    ),
    env(
      new Option('--log-format <format>', 'auto: readable in a terminal, JSON lines otherwise')
        .choices(LOG_FORMATS)
        .default(DEFAULTS.logFormat),
      'logFormat',
    ),
  ];
}
