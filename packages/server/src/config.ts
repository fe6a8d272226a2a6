import type { BackendName } from '@food/core/backend';
import type { EngineChoice } from '@food/core/engine/resolve-engine';
import { DEFAULT_MAX_PIXELS } from '@food/core/preprocess/image';
import { usableCores } from '@food/core/usable-cores';
import type { LogFormat } from './logger.ts';

/** Everything `pnpm serve` can be told, by flag or environment variable (flags win). */
export interface ServerConfig {
  checkpoint: string;
  host: string;
  port: number;
  backend: BackendName;
  /**
   * `auto` (the ONNX export beside the checkpoint, int8 first, else tfjs), `tfjs` (on `backend`) or
   * `onnx` (ONNX Runtime, from `onnxModel`).
   */
  engine: EngineChoice;
  /** The exported .onnx file for `--engine onnx|auto` (default: beside the checkpoint, `best.onnx`). */
  onnxModel?: string;
  /** Evaluation report folder (`pnpm evaluate --out`) whose test metrics and pictures the model card shows. */
  report?: string;
  /** Inference worker threads; 0 runs the model on the main thread. */
  workers: number;
  maxBatch: number;
  batchTimeoutMs: number;
  maxQueue: number;
  maxUploadBytes: number;
  maxPixels: number;
  /** On SIGTERM, how long to keep answering 503 (readiness included) before closing the listener. */
  drainDelayMs: number;
  logLevel: LogLevel;
  /** `auto` (default): readable lines in a terminal, JSON lines otherwise. */
  logFormat?: LogFormat;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 5000,
  backend: 'auto',
  engine: 'auto',
  workers: usableCores(),
  maxBatch: 8,
  batchTimeoutMs: 5,
  maxQueue: 64,
  maxUploadBytes: 10 * 1024 * 1024,
  maxPixels: DEFAULT_MAX_PIXELS,
  drainDelayMs: 0,
  logLevel: 'info',
  logFormat: 'auto',
} as const satisfies Omit<ServerConfig, 'checkpoint'>;

/** The environment variable behind each setting (12-factor). */
export const ENVIRONMENT = {
  checkpoint: 'CHECKPOINT',
  host: 'HOST',
  port: 'PORT',
  backend: 'BACKEND',
  engine: 'ENGINE',
  onnxModel: 'ONNX_MODEL',
  report: 'REPORT',
  workers: 'WORKERS',
  maxBatch: 'MAX_BATCH',
  batchTimeoutMs: 'BATCH_TIMEOUT_MS',
  maxQueue: 'MAX_QUEUE',
  maxUploadBytes: 'MAX_UPLOAD_BYTES',
  maxPixels: 'MAX_PIXELS',
  drainDelayMs: 'DRAIN_DELAY_MS',
  logLevel: 'LOG_LEVEL',
  logFormat: 'LOG_FORMAT',
} as const satisfies Record<keyof ServerConfig, string>;
