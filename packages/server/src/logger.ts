import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import pinoPretty from 'pino-pretty';
import type { LogLevel } from './config.ts';

/**
 * How the server logs. `auto`: human-readable lines in a terminal, JSON lines (pino's format, one object
 * per line, what log collectors read) when the output is a pipe or a file; `pretty` and `json` force one.
 */
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Set on the one line a person starting the server looks for, so that a terminal can make it stand out. */
export const READY_EVENT = 'ready';

export interface LoggerSettings {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go (stdout by default); its `isTTY` decides `auto`. */
  destination?: NodeJS.WritableStream & { isTTY?: boolean };
}

export function resolveLogFormat(format: LogFormat, destination: { isTTY?: boolean }): 'pretty' | 'json' {
  if (format !== 'auto') return format;
  return destination.isTTY ? 'pretty' : 'json';
}

/** Fastify's `logger` option for these settings. */
export function loggerOptions(settings: LoggerSettings): FastifyServerOptions['logger'] {
  const destination = settings.destination ?? process.stdout;
  if (resolveLogFormat(settings.format, destination) === 'json') {
    return { level: settings.level, stream: destination };
  }
  const colorize = destination.isTTY === true;
  const stream = pinoPretty({
    destination,
    colorize,
    sync: true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,event',
    messageFormat: (log, messageKey) => {
      const message = String(log[messageKey]);
      if (log.event !== READY_EVENT) return message;
      return `\n  ${colorize ? boldGreen(message) : message}\n`;
    },
  });
  return { level: settings.level, stream };
}

/**
 * One line per request, at `debug`: Fastify's default is two at `info` ("incoming request", "request
 * completed"), which buried the ready line (233 lines for ~100 requests, 37 MB for 55k). Pass
 * a LogController with `disableRequestLogging: true` to Fastify with it.
 */
export function logRequests(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      { statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
      `${request.method} ${request.url} ${reply.statusCode} ${Math.round(reply.elapsedTime)} ms`,
    );
  });
}

/**
 * ANSI bold green, written out: `colorize` has already decided, while util.styleText on Node 24 checks the
 * process's own stdout again and drops the colour when that is not a terminal.
 */
function boldGreen(text: string): string {
  return `\u001b[1m\u001b[32m${text}\u001b[39m\u001b[22m`;
}
