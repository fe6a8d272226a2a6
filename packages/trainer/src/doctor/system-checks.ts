import type { CheckResult } from './check-result.ts';
import { TRAIN_IMAGE } from './fixes.ts';

/** The Node lines CI tests (.ci/run) and `engines` in package.json name. */
export const TESTED_NODE_MAJORS = [20, 24];

export function checkNodeVersion(version: string): CheckResult {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  const name = 'node';
  if (major < 20 || (major === 20 && minor < 9)) {
    return {
      name,
      status: 'fail',
      detail: `Node ${version}: too old (needs 20.9 or newer; tested: ${TESTED_NODE_MAJORS.join(', ')})`,
      fix: `Install Node 24 LTS (https://nodejs.org), ${TRAIN_IMAGE}`,
    };
  }
  if (!TESTED_NODE_MAJORS.includes(major)) {
    return {
      name,
      status: 'warn',
      detail: `Node ${version}: not a line CI tests (${TESTED_NODE_MAJORS.join(', ')})`,
      fix: 'Use Node 24 LTS, the line the Docker images run',
    };
  }
  if (major === 20) {
    return {
      name,
      status: 'warn',
      detail: `Node ${version}: tested, but past its end of life (2026-04-30)`,
      fix: 'Move to Node 24 LTS',
    };
  }
  return { name, status: 'pass', detail: `Node ${version} (tested: ${TESTED_NODE_MAJORS.join(', ')})` };
}

const GB = 1e9;

/**
 * Food-101 is 5 GB to download and about as much unpacked; each epoch's checkpoint of the full model
 * with its Adam moments is about 280 MB, 14 epochs plus best and latest about 4.5 GB.
 */
export const DISK_NEEDED_BYTES = 15 * GB;

export function checkDisk(folder: string, freeBytes: number): CheckResult {
  const detail = `${(freeBytes / GB).toFixed(1)} GB free in ${folder}`;
  if (freeBytes >= DISK_NEEDED_BYTES) return { name: 'disk', status: 'pass', detail };
  const fix = `Free space or put data/ and checkpoints/ on a larger disk: the recipe needs about ${DISK_NEEDED_BYTES / GB} GB (Food-101 download and images, 14 epochs of checkpoints; --keep-epochs 2 saves most of the latter)`;
  return { name: 'disk', status: freeBytes < 2 * GB ? 'fail' : 'warn', detail, fix };
}
