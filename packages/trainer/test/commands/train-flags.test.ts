import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { register } from '../../src/commands/train.ts';

/** The flags `pnpm train ARGS` hands its action (the action itself is replaced: nothing trains). */
async function trainFlags(...args: string[]): Promise<Record<string, unknown>> {
  const program = new Command().exitOverride();
  register(program);
  let flags: Record<string, unknown> = {};
  program.commands[0]!.exitOverride()
    .configureOutput({ writeErr: () => {} })
    .action((parsed) => {
      flags = parsed;
    });
  await program.parseAsync(['train', '--prepared', 'p', '--out', 'o', ...args], { from: 'user' });
  return flags;
}

describe('pnpm train flags', () => {
  it('accepts --seed 0, as export does (its default)', async () => {
    expect((await trainFlags('--seed', '0')).seed).toBe(0);
    await expect(trainFlags('--seed', '-1')).rejects.toThrow(/integer ≥ 0/);
  });

  it('--resume alone, --resume auto, and nothing else after --resume', async () => {
    expect((await trainFlags()).resume).toBe(false);
    expect((await trainFlags('--resume')).resume).toBe(true);
    expect((await trainFlags('--resume', 'auto')).resume).toBe('auto');
    expect((await trainFlags('--resume', '--seed', '3')).resume).toBe(true);
    await expect(trainFlags('--resume', 'always')).rejects.toThrow(/expected "auto" or nothing/);
  });

  it('--backend gpu means tensorflow', async () => {
    expect((await trainFlags('--backend', 'gpu')).backend).toBe('tensorflow');
  });
});
