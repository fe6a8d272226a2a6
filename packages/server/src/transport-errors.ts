import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Answers to requests that never reach a route: what Node's HTTP parser refuses (a garbage request
 * line, headers over Node's 16 KiB limit, headers that do not finish in time) and what Fastify's router
 * cannot decode (`/api/%zz`). Fastify's defaults answered these in a shape of their own and /metrics
 * never counted them; here they get the API's `{ error: { code, message } }` body and are reported
 * to `onAnswer` listeners (the metrics plugin).
 */
export interface TransportAnswer {
  /** The request method when it was parsed, else `UNKNOWN`. */
  method: string;
  /** The route pattern when one matched, else `unmatched` (the router's errors) or `unparsed`. */
  route: string;
  status: number;
  code: string;
}

export class TransportErrors {
  readonly #listeners: Array<(answer: TransportAnswer) => void> = [];

  onAnswer(listener: (answer: TransportAnswer) => void): void {
    this.#listeners.push(listener);
  }

  report(answer: TransportAnswer): void {
    for (const listener of this.#listeners) listener(answer);
  }

  /** Fastify's `clientErrorHandler`: Node's `clientError`, raised before a request object exists. */
  readonly clientErrorHandler = (error: NodeJS.ErrnoException, socket: Socket): void => {
    // The client went away (ECONNRESET) or the socket is already closed: nobody to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const { status, code, message } = clientErrorReply(error);
    this.report({ method: 'UNKNOWN', route: 'unparsed', status, code });
    if (socket.writable) {
      const body = JSON.stringify({ error: { code, message } });
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };

  /** Fastify's `frameworkErrors`: the router's own errors, answered without running any hook. */
  readonly frameworkErrors = (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const { status, code, message } = frameworkErrorReply(error, request.url);
    if (status >= 500) request.log.error({ err: error }, 'router error');
    this.report({ method: request.method, route: 'unmatched', status, code });
    void reply.status(status).send({ error: { code, message } });
  };
}

interface Reply {
  status: number;
  code: string;
  message: string;
}

function clientErrorReply(error: NodeJS.ErrnoException): Reply {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return {
      status: 408,
      code: 'REQUEST_TIMEOUT',
      message: 'The request headers did not arrive in time. Check the connection and retry.',
    };
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return {
      status: 431,
      code: 'HEADERS_TOO_LARGE',
      message:
        'The request headers are over the 16 KiB limit. Send fewer or shorter headers (cookies?) and retry.',
    };
  }
  return {
    status: 400,
    code: 'BAD_REQUEST',
    message: `The request is not valid HTTP/1.1 (${error.code ?? error.message}). Check the client; curl -F image=@photo.jpg URL/api/predict is a working example.`,
  };
}

function frameworkErrorReply(error: FastifyError, url: string): Reply {
  if (error.code === 'FST_ERR_BAD_URL') {
    return {
      status: 400,
      code: 'BAD_URL',
      message: `The URL ${JSON.stringify(url)} cannot be decoded (a % must start a %XX escape). Percent-encode it and retry.`,
    };
  }
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return {
      status: 414,
      code: 'URL_TOO_LONG',
      message: 'A part of the URL is too long. The API is described at GET /docs.',
    };
  }
  return { status: 500, code: 'INTERNAL', message: 'Internal server error; the server log has the details.' };
}
