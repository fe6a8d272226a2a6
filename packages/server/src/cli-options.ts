import { InvalidArgumentError } from 'commander';

/** Like `integerIn`, also accepting binary suffixes: 10MiB, 512KiB, 10M, 512k. */
export function byteSizeIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(k|kib|kb|m|mib|mb|g|gib|gb)?\s*$/i.exec(value);
    const scale = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match?.[2]?.[0] ?? '').toLowerCase()] ?? 1;
    const bytes = match ? Math.round(Number(match[1]) * scale) : Number.NaN;
    if (!Number.isFinite(bytes) || bytes < min || bytes > max) {
      throw new InvalidArgumentError(
        `Expected a size from ${min} to ${max} bytes (suffixes: KiB, MiB, GiB).`,
      );
    }
    return bytes;
  };
}

/** An http(s) URL with nothing after the origin but an optional slash. */
export function serverUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('Expected a URL such as http://127.0.0.1:5000.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError('Expected an http:// or https:// URL.');
  }
  return url.origin;
}
