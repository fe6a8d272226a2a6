/** The figures `pnpm bench:browser` measures, summed up and written as a table for docs/benchmarks.md. */

export interface LoadFigures {
  /** Bytes over the network: the model file, and onnxruntime-web's script and wasm. */
  modelBytes: number;
  runtimeBytes: number;
  /** From asking for the model to a session ready to run: runtime import, download, session creation. */
  ms: number;
}

/** One photo: its true class, the device's and the server's top-1, and the device's time. */
export interface PhotoResult {
  label: string;
  device: string;
  server: string;
  deviceMs: number;
}

export interface BrowserFigures {
  checkpoint: string;
  precision: string;
  modelFileBytes: number;
  browser: string;
  threads: number;
  firstLoad: LoadFigures;
  /** The same in a new page of the same browser profile: the model from the HTTP cache. */
  cachedLoad: LoadFigures;
  photos: number;
  msPerPhoto: { median: number; p90: number; first: number };
  agreeing: number;
  agreement: number;
  deviceTop1: number;
  serverTop1: number;
  loadAverage: number[];
}

/** The q-quantile (nearest rank) of `values`; 0 for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? sorted[0]!;
}

export function summarisePhotos(results: readonly PhotoResult[]) {
  const ms = results.map((result) => result.deviceMs);
  const share = (count: number) => (results.length === 0 ? 0 : count / results.length);
  const agreeing = results.filter((result) => result.device === result.server).length;
  return {
    photos: results.length,
    msPerPhoto: { median: quantile(ms, 0.5), p90: quantile(ms, 0.9), first: ms[0] ?? 0 },
    agreeing,
    agreement: share(agreeing),
    deviceTop1: share(results.filter((result) => result.device === result.label).length),
    serverTop1: share(results.filter((result) => result.server === result.label).length),
  };
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(bytes < 1e6 ? 3 : 1)} MB`;
const percent = (share: number) => `${(100 * share).toFixed(1)} %`;
const ms = (value: number) => `${Math.round(value).toLocaleString('en-US')} ms`;

export function browserMarkdown(figures: BrowserFigures, when: string): string {
  const load = (name: string, figure: LoadFigures) =>
    `| ${name} | ${mb(figure.modelBytes)} | ${mb(figure.runtimeBytes)} | ${ms(figure.ms)} |`;
  return [
    '## Classification on the device (headless Chromium)',
    '',
    `Written by \`pnpm bench:browser\` (packages/bench/src/browser-bench.ts) on ${when}: \`pnpm serve\` ` +
      `with \`--checkpoint ${figures.checkpoint}\` and no other flag, its web UI in ${figures.browser} ` +
      `(headless, onnxruntime-web wasm, ${figures.threads} thread${figures.threads === 1 ? '' : 's'}), ` +
      `the ${figures.precision} model (${mb(figures.modelFileBytes)}), ${figures.photos} food10 test photos ` +
      `(classes in turn). Load average at start: ${figures.loadAverage.map((v) => v.toFixed(2)).join(' / ')}.`,
    '',
    '| load | model over the network | runtime over the network | until the model can run |',
    '| --- | --- | --- | --- |',
    load('first (empty cache)', figures.firstLoad),
    load('again (new page, from the caches)', figures.cachedLoad),
    '',
    '| per photo on the device (decode, resize, normalise, run) | top-1 = server top-1 | device top-1 | server top-1 |',
    '| --- | --- | --- | --- |',
    `| median ${ms(figures.msPerPhoto.median)}, p90 ${ms(figures.msPerPhoto.p90)}, first ${ms(figures.msPerPhoto.first)} | ` +
      `${figures.agreeing} / ${figures.photos} (${percent(figures.agreement)}) | ${percent(figures.deviceTop1)} | ${percent(figures.serverTop1)} |`,
    '',
    'Reproduce: `pnpm bench:browser --checkpoint DIR [--prepared data/prepared/food10] [--photos 200] [--write-docs]`.',
  ].join('\n');
}
