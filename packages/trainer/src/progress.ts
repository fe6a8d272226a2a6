import { SingleBar } from 'cli-progress';

export interface Progress {
  /** Advances by `amount` and updates the live fields shown after the bar (loss, acc, ...). */
  tick(amount?: number, fields?: Record<string, string | number>): void;
  stop(): void;
}

/**
 * A progress bar with ETA and live fields on stderr. Silent when `enabled` is false (tests) and a plain
 * line every 10% when stderr is not a terminal (CI logs), so logs stay readable.
 */
export function createProgress(label: string, total: number, enabled = true): Progress {
  if (!enabled || total <= 0) return { tick() {}, stop() {} };
  const fieldKeys: string[] = [];
  const format = () =>
    `${label} [{bar}] {percentage}% {value}/{total} | ETA {eta_formatted} | ${fieldKeys.map((k) => `${k} {${k}}`).join(' ')}`;
  if (!process.stderr.isTTY) {
    let done = 0;
    let lastDecile = -1;
    const started = Date.now();
    return {
      tick(amount = 1, fields = {}) {
        done += amount;
        const decile = Math.floor((done / total) * 10);
        if (decile !== lastDecile) {
          lastDecile = decile;
          const elapsed = (Date.now() - started) / 1000;
          const eta = done > 0 ? Math.round((elapsed / done) * (total - done)) : 0;
          const extra = Object.entries(fields)
            .map(([k, v]) => `${k} ${v}`)
            .join(' ');
          process.stderr.write(
            `${label} ${done}/${total} (${Math.round((done / total) * 100)}%) ETA ${eta}s ${extra}\n`,
          );
        }
      },
      stop() {},
    };
  }
  const bar = new SingleBar({ format: format(), stream: process.stderr, etaBuffer: 50, hideCursor: true });
  bar.start(total, 0);
  return {
    tick(amount = 1, fields = {}) {
      for (const key of Object.keys(fields)) {
        if (!fieldKeys.includes(key)) {
          fieldKeys.push(key);
          bar.options.format = format();
        }
      }
      bar.increment(amount, fields);
    },
    stop() {
      bar.stop();
    },
  };
}
