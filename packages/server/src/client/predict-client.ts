import { UserError } from '@food/core/errors';

export interface PredictResponse {
  predictions: Array<{ label: string; probability: number }>;
  model: { name: string; checkpoint: string };
  latencyMs: number;
}

export interface PredictClientOptions {
  /** Server base URL, e.g. http://127.0.0.1:5000 */
  url: string;
  topK?: number;
  /** Retries after a 503 (busy, loading, draining), honouring Retry-After. */
  retries?: number;
  /** Upper bound on one Retry-After wait. */
  maxRetryDelayMs?: number;
  /** Per-attempt timeout. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

/** The server answered with an error body; the message is the server's (it says what to do). */
export class PredictRequestError extends UserError {
  override name = 'PredictRequestError';
  constructor(
    message: string,
    readonly status: number,
    code: string,
  ) {
    super(message, code);
  }
}

const DEFAULT_RETRY_DELAY_MS = 1_000;

/** Sends one image to `POST /api/predict` as multipart, retrying 503s a bounded number of times. */
export async function predictImage(
  image: Uint8Array,
  filename: string,
  options: PredictClientOptions,
): Promise<PredictResponse> {
  const {
    retries = 3,
    maxRetryDelayMs = 10_000,
    timeoutMs = 60_000,
    fetch: fetchImpl = fetch,
    sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  } = options;
  const endpoint = new URL('/api/predict', options.url);
  if (options.topK !== undefined) endpoint.searchParams.set('topK', String(options.topK));

  for (let attempt = 0; ; attempt++) {
    const form = new FormData();
    form.append('image', new Blob([image as Uint8Array<ArrayBuffer>]), filename);
    let response: Response;
    try {
      response = await fetchImpl(endpoint, {
        method: 'POST',
        body: form,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw connectionError(options.url, error, timeoutMs);
    }
    if (response.ok) return (await response.json()) as PredictResponse;
    const body = await readErrorBody(response);
    if (response.status === 503 && attempt < retries) {
      await sleep(Math.min(maxRetryDelayMs, retryDelayMs(response.headers.get('retry-after'))));
      continue;
    }
    const retried = response.status === 503 && attempt > 0 ? ` (after ${attempt} retries)` : '';
    throw new PredictRequestError(
      `${filename}: server answered ${response.status} ${body.code}: ${body.message}${retried}`,
      response.status,
      body.code,
    );
  }
}

/** Retry-After in seconds or as an HTTP date (RFC 9110 §10.2.3); 1 s when absent or unreadable. */
export function retryDelayMs(header: string | null, now = Date.now()): number {
  if (header === null || header.trim() === '') return DEFAULT_RETRY_DELAY_MS;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? DEFAULT_RETRY_DELAY_MS : Math.max(0, date - now);
}

async function readErrorBody(response: Response): Promise<{ code: string; message: string }> {
  const text = await response.text();
  try {
    const { error } = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (error?.code && error.message) return { code: error.code, message: error.message };
  } catch {
    // Not our server, or a proxy's HTML error page: show the start of it below.
  }
  return { code: `HTTP_${response.status}`, message: text.slice(0, 200) || response.statusText };
}

function connectionError(url: string, error: unknown, timeoutMs: number): UserError {
  const cause = (error as { cause?: { code?: string } }).cause;
  const code = cause?.code ?? (error as { name?: string }).name;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new UserError(
      `no server at ${url} (${code}); start one with \`pnpm serve --checkpoint checkpoints/RUN/best\` or pass --url.`,
      'SERVER_UNREACHABLE',
    );
  }
  if (code === 'TimeoutError') {
    return new UserError(
      `${url} did not answer within ${timeoutMs / 1000} s; is the server overloaded?`,
      'TIMEOUT',
    );
  }
  return new UserError(`request to ${url} failed: ${(error as Error).message}`, 'REQUEST_FAILED');
}
