import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { withPreset } from '../../src/commands/train.ts';
import { CPU_PRESET, presetBackendWarning } from '../../src/train/presets.ts';

function parse(...args: string[]) {
  const command = new Command('train')
    .option('--preset <name>')
    .option('--lr <rate>', 'rate', Number, 1e-5)
    .option('--epochs <n>', 'epochs', Number, 14)
    .option('--trainable <scope>', 'scope', 'all')
    .option('--cache-features', 'cache', false)
    .option('--feature-views <k>', 'views', Number)
    .action(() => {});
  command.parse(args, { from: 'user' });
  // biome-ignore lint/suspicious/noExplicitAny: the flags object as commander hands it to the action
  return withPreset(command.opts() as any, command) as unknown as Record<string, unknown>;
}

describe('--preset', () => {
  it("replaces the defaults with the preset's settings", () => {
    const flags = parse('--preset', 'cpu');
    expect(flags).toMatchObject({
      lr: CPU_PRESET.learningRate,
      epochs: CPU_PRESET.epochs,
      trainable: CPU_PRESET.trainable,
      cacheFeatures: true,
      featureViews: CPU_PRESET.featureViews,
    });
  });

  it('keeps what the command line says', () => {
    const flags = parse('--preset', 'cpu', '--epochs', '3', '--lr', '0.01');
    expect(flags.epochs).toBe(3);
    expect(flags.lr).toBe(0.01);
    expect(flags.trainable).toBe(CPU_PRESET.trainable);
  });

  it('changes nothing without a preset', () => {
    expect(parse()).toMatchObject({ lr: 1e-5, epochs: 14, trainable: 'all', cacheFeatures: false });
  });
});

describe('presetBackendWarning', () => {
  it('names pnpm setup:tensorflow when --preset cpu would run on wasm or cpu', () => {
    expect(presetBackendWarning('cpu', 'wasm')).toMatch(/tensorflow backend.*pnpm setup:tensorflow/);
    expect(presetBackendWarning('cpu', 'cpu')).toMatch(/pnpm setup:tensorflow/);
  });

  it('is silent on the tensorflow backend and without a preset', () => {
    expect(presetBackendWarning('cpu', 'tensorflow')).toBeUndefined();
    expect(presetBackendWarning(undefined, 'wasm')).toBeUndefined();
  });
});
