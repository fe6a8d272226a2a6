/**
 * Latency percentiles from closed-loop fetch clients, for servers autocannon cannot time: autocannon 9
 * writes its next request on a socket the server is closing (Werkzeug's development server answers
 * `Connection: close` to every request), re-sends it on a new socket and pairs each later response with
 * the stale start time. Measured against the Flask reference: 1 connection, 41.6 req/s (its request log
 * agrees), yet p50 586 ms. Requests per second stay autocannon's: its response count is right.
 */
export interface ClosedLoopLatency {
  connections: number;
  /** Answered with 200 per second. */
  rps: number;
  /** Answered with 200 in all. */
  answers: number;
  p50: number;
  p99: number;
  /**
   * Mean of each Server-Timing entry over the 200s, in ms (our server: preprocess, queue, run,
   * inference), and the mean batch size from run's "batch of N"; empty for a server that sends none.
   */
  stages: Record<string, number>;
}

/** `preprocess;dur=1.5, run;dur=20;desc="batch of 2"` → { preprocess: 1.5, run: 20, batch: 2 }. */
export function parseServerTiming(header: string | null): Record<string, number> {
  const stages: Record<string, number> = {};
  for (const entry of (header ?? '').split(',')) {
    const [name, ...params] = entry.trim().split(';');
    const duration = params.find((param) => param.startsWith('dur='));
    if (name && duration) stages[name] = Number(duration.slice(4));
    const batch = /desc="batch of (\d+)"/.exec(entry);
    if (batch) stages.batch = Number(batch[1]);
  }
  return stages;
}

/**
 * `connections` clients post `request` back to back for `seconds`, and on until `minAnswers` 200s came
 * back (at most 60 s more): a slow server's percentiles need more than a few answers.
 */
export async function closedLoopLatency(
  url: string,
  request: { payload: Buffer; headers: Record<string, string> },
  connections: number,
  seconds: number,
  minAnswers = 0,
): Promise<ClosedLoopLatency> {
  const okMs: number[] = [];
  const sums: Record<string, number> = {};
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const hardDeadline = deadline + 60_000;
  const going = () => {
    const now = performance.now();
    return now < deadline || (okMs.length < minAnswers && now < hardDeadline);
  };
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (going()) {
        const begin = performance.now();
        const response = await fetch(url, {
          method: 'POST',
          body: new Uint8Array(request.payload),
          headers: request.headers,
        });
        await response.arrayBuffer();
        if (response.status !== 200) continue;
        okMs.push(performance.now() - begin);
        for (const [name, ms] of Object.entries(parseServerTiming(response.headers.get('server-timing'))))
          sums[name] = (sums[name] ?? 0) + ms;
      }
    }),
  );
  okMs.sort((a, b) => a - b);
  const at = (q: number) => Math.round(okMs[Math.min(okMs.length - 1, Math.floor(q * okMs.length))] ?? 0);
  return {
    connections,
    rps: okMs.length / ((performance.now() - started) / 1000),
    answers: okMs.length,
    p50: at(0.5),
    p99: at(0.99),
    stages: Object.fromEntries(Object.entries(sums).map(([name, sum]) => [name, sum / okMs.length])),
  };
}
