/// <reference path="./types/autocannon.d.ts" />
import autocannon from 'autocannon';

export interface LoadTestOptions {
  url: string;
  image: Uint8Array;
  contentType: string;
  durationSeconds: number;
  connections: number;
}

export interface LoadTestReport {
  requests: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
}

/** Posts the same image as a raw body from `connections` clients for a bounded time (autocannon). */
export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestReport> {
  const result = await autocannon({
    url: new URL('/api/predict', options.url).toString(),
    method: 'POST',
    headers: { 'content-type': options.contentType },
    body: Buffer.from(options.image),
    connections: options.connections,
    duration: options.durationSeconds,
    timeout: 30,
  });
  return {
    requests: result.requests.total,
    requestsPerSecond: result.requests.average,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    statusCodes: Object.fromEntries(
      Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]),
    ),
    errors: result.errors,
    timeouts: result.timeouts,
  };
}
