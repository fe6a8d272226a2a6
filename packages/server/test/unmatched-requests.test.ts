import { METHODS } from 'node:http';
import { describe, expect, it } from 'vitest';
import { useTinyApp } from './helpers/tiny-server.ts';

const tiny = useTinyApp({ workers: 0 });

/** A URL of every kind of route (API, model asset, metrics, docs, UI file) and what it takes. */
const PATHS: Array<[string, string]> = [
  ['/api/predict', 'POST'],
  ['/api/health', 'GET, HEAD'],
  ['/api/ready', 'GET, HEAD'],
  ['/api/model', 'GET, HEAD'],
  ['/api/model/assets/curves.svg', 'GET, HEAD'],
  ['/api/stats?x=1', 'GET, HEAD'],
  ['/metrics', 'GET, HEAD'],
  ['/docs/json', 'GET, HEAD'],
  ['/', 'GET, HEAD'],
  ['/app.js', 'GET, HEAD'],
];

// CONNECT never reaches a route: Node hands it to the server's 'connect' event (none: the socket closes).
const REQUEST_METHODS = METHODS.filter((method) => method !== 'CONNECT');

describe('a method the path does not take', () => {
  it.each(PATHS)('answers 405 with Allow on %s (takes %s)', async (url, allow) => {
    const taken = allow.split(', ');
    const answers = [];
    for (const method of REQUEST_METHODS.filter((m) => !taken.includes(m))) {
      const response = await tiny.app.inject({ method: method as 'GET', url });
      answers.push({
        method,
        status: response.statusCode,
        allow: response.headers.allow,
        body: response.body ? response.json() : null,
      });
    }
    const path = url.split('?')[0];
    expect(answers).toEqual(
      REQUEST_METHODS.filter((m) => !taken.includes(m)).map((method) => ({
        method,
        status: 405,
        allow,
        // A HEAD answer never has a body.
        body:
          method === 'HEAD'
            ? null
            : {
                error: {
                  code: 'METHOD_NOT_ALLOWED',
                  message: `${method} ${path} is not supported; use ${allow} (see the Allow header). The API is described at GET /docs.`,
                },
              },
      })),
    );
  });

  it('still answers 404 on a path no route takes, whatever the method', async () => {
    for (const method of ['GET', 'TRACE', 'QUERY', 'DELETE']) {
      const response = await tiny.app.inject({ method: method as 'GET', url: '/api/nothing' });
      expect({ method, status: response.statusCode, code: response.json().error.code }).toEqual({
        method,
        status: 404,
        code: 'NOT_FOUND',
      });
    }
  });

  it('leaves the methods a path takes alone', async () => {
    expect((await tiny.app.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(200);
    expect((await tiny.app.inject({ method: 'HEAD', url: '/metrics' })).statusCode).toBe(200);
    expect((await tiny.app.inject({ method: 'POST', url: '/api/predict' })).statusCode).toBe(400);
  });
});
