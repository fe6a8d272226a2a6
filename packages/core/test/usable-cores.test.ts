import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { usableCores } from '../src/usable-cores.ts';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A fake /sys/fs/cgroup holding the given files. */
function cgroup(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'cgroup-'));
  roots.push(root);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), `${content}\n`);
  }
  return root;
}

// Quotas below the machine's core count only make sense where there is more than one core.
const cores = availableParallelism();

describe('usableCores', () => {
  it('is every core when no cgroup limits the CPU', () => {
    expect(usableCores(cgroup({}))).toBe(cores);
    expect(usableCores(cgroup({ 'cpu.max': 'max 100000' }))).toBe(cores);
    expect(usableCores(cgroup({ 'cpu/cpu.cfs_quota_us': '-1', 'cpu/cpu.cfs_period_us': '100000' }))).toBe(
      cores,
    );
  });

  it.skipIf(cores < 2)('follows a cgroup v2 quota (a Kubernetes CPU limit), rounded up', () => {
    expect(usableCores(cgroup({ 'cpu.max': '100000 100000' }))).toBe(1);
    expect(usableCores(cgroup({ 'cpu.max': '50000 100000' }))).toBe(1);
    expect(usableCores(cgroup({ 'cpu.max': `${(cores - 1) * 100000 + 1} 100000` }))).toBe(cores);
  });

  it.skipIf(cores < 2)('follows a cgroup v1 quota', () => {
    expect(usableCores(cgroup({ 'cpu/cpu.cfs_quota_us': '100000', 'cpu/cpu.cfs_period_us': '100000' }))).toBe(
      1,
    );
  });

  it('never exceeds the cores the process may run on', () => {
    expect(usableCores(cgroup({ 'cpu.max': `${(cores + 8) * 100000} 100000` }))).toBe(cores);
  });
});
