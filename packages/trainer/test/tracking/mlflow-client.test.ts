import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MlflowClient } from '../../src/tracking/mlflow-client.ts';

let server: http.Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A server on a free loopback port that answers every request with `respond`. */
async function serve(respond: http.RequestListener): Promise<MlflowClient> {
  server = http.createServer(respond);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return new MlflowClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

describe('MlflowClient: what is an outage and what is a refusal', () => {
  it('an answer cut off mid-body (the server died while answering) is an outage, sent again later', async () => {
    const client = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      response.write('{"run": ');
      setTimeout(() => response.socket?.destroy(), 10);
    });
    await expect(client.updateRun('run-1', 'FINISHED')).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('a 4xx is a refusal (sending it again would fail again), a 5xx an outage', async () => {
    let status = 400;
    const client = await serve((_request, response) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error_code: 'INVALID_PARAMETER_VALUE', message: 'no such run' }));
    });
    await expect(client.updateRun('run-1', 'FINISHED')).rejects.toMatchObject({
      kind: 'rejected',
      errorCode: 'INVALID_PARAMETER_VALUE',
    });
    status = 503;
    await expect(client.updateRun('run-1', 'FINISHED')).rejects.toMatchObject({ kind: 'unavailable' });
  });
});
