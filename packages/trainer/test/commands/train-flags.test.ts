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

  it('a bad value is one line naming the flag and what it takes (--image-size 10 used to end in a RangeError)', async () => {
    const error = await trainFlags('--image-size', '10').catch((caught: Error) => caught);
    expect(error).toMatchObject({ exitCode: 1, code: 'commander.invalidArgument' });
    expect((error as Error).message).toBe(
      "error: option '--image-size <px>' argument '10' is invalid. expected an integer ≥ 32 (ResNet-50 halves it five times), got 10.",
    );
    await expect(trainFlags('--blocks', '3,4,6')).rejects.toThrow(/four positive integers/);
    await expect(trainFlags('--label-smoothing', '1')).rejects.toThrow(/from 0 to below 1/);
  });

  it('--grad-clip-norm takes a positive number, and is off by default', async () => {
    expect((await trainFlags('--grad-clip-norm', '1.5')).gradClipNorm).toBe(1.5);
    expect((await trainFlags()).gradClipNorm).toBeUndefined();
    await expect(trainFlags('--grad-clip-norm', '0')).rejects.toThrow(/positive number/);
  });
});
