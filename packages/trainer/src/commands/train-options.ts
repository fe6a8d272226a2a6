/**
 * `pnpm train`'s options, made from the table of training settings (core/checkpoint/run-settings.ts),
 * and the run config a parsed command line stands for: the table's defaults, then the preset's settings,
 * then the flags given.
 */
import {
  type PresetFields,
  type ResolvedRunConfig,
  resolveRunConfig,
  type SettingName,
} from '@food/core/checkpoint/run-config';
import { RUN_SETTINGS, type SettingRow } from '@food/core/checkpoint/run-settings';
import { type Command, Option } from 'commander';
import { TRAIN_PRESETS } from '../train/presets.ts';

const NAMES = Object.keys(RUN_SETTINGS) as SettingName[];

function rowOf(name: SettingName): SettingRow<unknown> {
  return RUN_SETTINGS[name];
}

/** The commander option of a setting with a flag. */
export function settingOption(name: SettingName): Option | undefined {
  const row = rowOf(name);
  if (!row.flag) return undefined;
  const option = new Option(row.flag, row.help);
  if (row.value.choices) option.choices(row.value.choices as string[]);
  else if (row.value.parse) option.argParser(row.value.parse);
  // commander defaults a --no-X switch to true itself, and would print "(default: true)" if told so.
  if (row.default !== undefined && !option.negate) option.default(row.default);
  if (row.required) option.makeOptionMandatory();
  return option;
}

/**
 * Adds an option per setting with a flag, in the table's order; `extra` are the command's own options,
 * each placed after the setting it names.
 */
export function addSettingOptions(
  command: Command,
  extra: ReadonlyArray<{ after: SettingName; option: Option }>,
): void {
  for (const name of NAMES) {
    const option = settingOption(name);
    if (option) command.addOption(option);
    for (const added of extra.filter((entry) => entry.after === name)) command.addOption(added.option);
  }
}

/** The settings given on the command line (not left at commander's default), by field name. */
function givenSettings(command: Command): Partial<ResolvedRunConfig> {
  const values: Record<string, unknown> = {};
  for (const name of NAMES) {
    const option = settingOption(name);
    if (!option) continue;
    const attribute = option.attributeName();
    const source = command.getOptionValueSource(attribute);
    if (source !== undefined && source !== 'default') values[name] = command.getOptionValue(attribute);
  }
  return values;
}

/** The run config of a parsed `pnpm train`: defaults < `--preset` < the flags given. */
export function runConfigOf(
  command: Command,
  preset: keyof typeof TRAIN_PRESETS | undefined,
): ResolvedRunConfig {
  const presetFields: PresetFields = preset ? TRAIN_PRESETS[preset] : {};
  const given = givenSettings(command);
  return resolveRunConfig({ ...presetFields, ...given } as Parameters<typeof resolveRunConfig>[0]);
}

/** The flags that stand for a preset's settings: `--trainable stage5 --cache-features …`. */
export function presetFlags(fields: PresetFields): string {
  return Object.entries(fields)
    .map(([name, value]) => {
      const flag = rowOf(name as SettingName).flag!.split(' ')[0]!;
      if (value === true) return flag;
      if (value === false) return `(no ${flag})`;
      return `${flag} ${value}`;
    })
    .join(' ');
}
