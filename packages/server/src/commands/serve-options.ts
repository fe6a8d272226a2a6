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
    env(
      new Option('--port <port>', 'port (0: any free port)')
        .default(DEFAULTS.port)
        .argParser(integerIn(0, 65535)),
      'port',
    ),
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
    env(
      new Option('--workers <n>', 'inference worker threads (0: run the model on the main thread)')
        .default(DEFAULTS.workers, 'CPU cores')
        .argParser(integerIn(0, 64)),
      'workers',
    ),
    env(
      new Option('--max-batch <n>', 'most images per forward pass')
        .default(DEFAULTS.maxBatch)
        .argParser(integerIn(1, 256)),
      'maxBatch',
    ),
    env(
      new Option('--batch-timeout-ms <ms>', 'how long an image may wait for others to share its batch')
        .default(DEFAULTS.batchTimeoutMs)
        .argParser(integerIn(0, 10_000)),
      'batchTimeoutMs',
    ),
    env(
      new Option('--max-queue <n>', 'most images waiting; beyond it requests get 503 + Retry-After')
        .default(DEFAULTS.maxQueue)
        .argParser(integerIn(1, 100_000)),
      'maxQueue',
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
    env(
      new Option('--max-pixels <n>', 'largest decoded width × height (413 above)')
        .default(DEFAULTS.maxPixels)
        .argParser(integerIn(1, 1_000_000_000)),
      'maxPixels',
    ),
    env(
      new Option('--drain-delay-ms <ms>', 'on SIGTERM, answer 503 (readiness too) this long before closing')
        .default(DEFAULTS.drainDelayMs)
        .argParser(integerIn(0, 600_000)),
      'drainDelayMs',
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
