import { commands } from '@food/trainer/commands/index';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { SCALE_DEFAULTS } from '../../src/scale/scale-cli.ts';
import { type ScaleOptions, scaleSteps } from '../../src/scale/scale-plan.ts';

const OPTIONS: ScaleOptions = { ...SCALE_DEFAULTS, workDir: '/work', weights: '/weights' };

/** Parses with the trainer's own commander definitions, without running: the options it does not know. */
function unknownTrainerOptions(args: string[]): string[] {
  const program = new Command('food-trainer').exitOverride();
  for (const register of commands) register(program);
  const [name, ...rest] = args;
  const command = program.commands.find((candidate) => candidate.name() === name);
  if (!command) throw new Error(`food-trainer has no command "${name}"`);
  command.exitOverride().configureOutput({ writeErr: () => {} });
  return command.parseOptions(rest).unknown;
}

const flag = (args: string[], name: string) => args[args.indexOf(name) + 1];

describe('scaleSteps', () => {
  it('runs every step in order, each trainer command with flags the trainer knows', () => {
    const steps = scaleSteps(OPTIONS);
    expect(steps.map((step) => step.name)).toEqual([
      'generate',
      'prepare-all',
      'prepare-subset',
      'stats',
      'loader-epoch',
      'feature-cache',
      'preset-start',
      'preset-steps',
      'full-start',
      'full-steps',
      'export',
      'evaluate',
    ]);
    for (const step of steps.filter((s) => s.program === 'trainer')) {
      expect(unknownTrainerOptions(step.args), step.name).toEqual([]);
    }
  });

  it('keeps the generated set apart from the run outputs, keyed by size and seed', () => {
    const [generate, prepareAll] = scaleSteps(OPTIONS);
    expect(generate!.args).toEqual(['generate', '/work/set-101x1000-seed42', '101', '1000', '42']);
    expect(flag(prepareAll!.args, '--out')).toBe('/work/run/prepared-101');
  });

  it('gives the preset epochs enough for its steps, and the full network one step more than it runs', () => {
    const steps = scaleSteps(OPTIONS);
    const preset = steps.find((step) => step.name === 'preset-steps')!.args;
    // 800 images are 25 steps of 32 per epoch: 8 epochs hold 200 steps.
    expect(flag(preset, '--epochs')).toBe('8');
    expect(flag(preset, '--max-steps')).toBe('200');
    const full = steps.find((step) => step.name === 'full-steps')!.args;
    // A mid-epoch stop: no validation pass inside the timed steps.
    expect(flag(full, '--limit')).toBe(String(201 * 8));
    expect(flag(full, '--max-steps')).toBe('200');
    expect(flag(full, '--weights')).toBe('/weights');
  });
});
