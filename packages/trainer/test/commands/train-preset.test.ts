import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { register } from '../../src/commands/train.ts';
import { runConfigOf } from '../../src/commands/train-options.ts';
import { CPU_PRESET, presetBackendWarning } from '../../src/train/presets.ts';

/** The run config `pnpm train ARGS` would train with (the action is replaced: nothing trains). */
async function trainConfig(...args: string[]) {
  const program = new Command().exitOverride();
  register(program);
  let config: ReturnType<typeof runConfigOf> | undefined;
  program.commands[0]!.exitOverride()
    .configureOutput({ writeErr: () => {} })
    .action((flags, command: Command) => {
      config = runConfigOf(command, flags.preset);
    });
  await program.parseAsync(['train', '--prepared', 'p', '--out', 'o', ...args], { from: 'user' });
  return config!;
}

describe('--preset', () => {
  it("replaces the defaults with the preset's settings", async () => {
    expect(await trainConfig('--preset', 'cpu')).toMatchObject(CPU_PRESET);
  });

  it('keeps what the command line says', async () => {
    const config = await trainConfig('--preset', 'cpu', '--epochs', '3', '--lr', '0.01');
    expect(config.epochs).toBe(3);
    expect(config.learningRate).toBe(0.01);
    expect(config.trainable).toBe(CPU_PRESET.trainable);
  });

  it('a flag given with the default value still wins over the preset', async () => {
    expect((await trainConfig('--preset', 'cpu', '--trainable', 'all')).trainable).toBe('all');
  });

  it('changes nothing without a preset', async () => {
    expect(await trainConfig()).toMatchObject({
      learningRate: 1e-5,
      epochs: 14,
      trainable: 'all',
      cacheFeatures: false,
      featureViews: 0,
    });
  });

  it('--help names the flags each preset sets', () => {
    const program = new Command();
    register(program);
    const help = program.commands[0]!.helpInformation().replace(/\s+/g, ' ');
    expect(help).toContain(
      'cpu: a stage-5 fine-tune on cached 288-px features, chosen on food10 validation for a 2-core CPU (--trainable stage5 --cache-features --feature-views 3 --image-size 288 --lr 0.0003 --lr-schedule cosine --warmup-epochs 0.3 --label-smoothing 0.1 --epochs 8 --batch-size 32)',
    );
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
