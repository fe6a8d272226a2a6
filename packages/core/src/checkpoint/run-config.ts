import { UserError } from '../errors.ts';
import { type LrScheduleName, RUN_SETTINGS, type SettingRow } from './run-settings.ts';
import type { SettingValue } from './setting-values.ts';

export type { LrScheduleName };

type Settings = typeof RUN_SETTINGS;
export type SettingName = keyof Settings;
type ValueOf<K extends SettingName> = Settings[K]['value'] extends SettingValue<infer T> ? T : never;
/** The settings a resolved run config always holds: those with a default, and those that must be given. */
type AlwaysSet = {
  [K in SettingName]: Settings[K] extends { default: unknown } | { required: true } ? K : never;
}[SettingName];
type MustBeGiven = {
  [K in SettingName]: Settings[K] extends { required: true } ? K : never;
}[SettingName];
type PresetSetting = { [K in SettingName]: Settings[K] extends { preset: true } ? K : never }[SettingName];

/**
 * A training run's settings as given: those that must be given (`required` rows), and any of the others,
 * which take the table's defaults. What a library caller passes `resolveRunConfig`, and what a checkpoint
 * writer may save (run-config.json; `parseRunConfig` fills in what it leaves out).
 */
export type RunConfig = { [K in MustBeGiven]: ValueOf<K> } & {
  [K in Exclude<SettingName, MustBeGiven>]?: ValueOf<K>;
};

/**
 * Every setting of a training run (one field per row of run-settings.ts), defaults filled in: what
 * `pnpm train` runs with, saved as each checkpoint's run-config.json so a checkpoint says how it was made
 * and `--resume` can check it is the same run. The preprocessing is not repeated here: it is the
 * checkpoint's preprocess.json.
 */
export type ResolvedRunConfig = { [K in AlwaysSet]: ValueOf<K> } & {
  [K in Exclude<SettingName, AlwaysSet>]?: ValueOf<K>;
};

/** The settings a preset may set (`preset: true` in the table). */
export type PresetFields = { [K in PresetSetting]?: ValueOf<K> };

const NAMES = Object.keys(RUN_SETTINGS) as SettingName[];

/** The table's defaults (the recipe: README, "The recipe"), fresh copies so callers may change them. */
export function runDefaults(): Partial<ResolvedRunConfig> {
  const defaults: Record<string, unknown> = {};
  for (const name of NAMES) {
    const row: SettingRow<unknown> = RUN_SETTINGS[name];
    if (row.default !== undefined) defaults[name] = structuredClone(row.default);
  }
  return defaults as Partial<ResolvedRunConfig>;
}

/**
 * The run config of `input` with the table's defaults for what it leaves out, every value checked.
 * Throws a UserError naming the first bad setting by its flag.
 */
export function resolveRunConfig(input: RunConfig): ResolvedRunConfig {
  const config = { ...runDefaults(), ...withoutUndefined(input) };
  const problem = firstProblem(config, 'value');
  if (problem) throw new UserError(`${problem}.`, 'INVALID_SETTING');
  return config as ResolvedRunConfig;
}

/**
 * Reads a parsed run-config.json. Settings it lacks (a run from before they existed) get the table's
 * default, the value such a run trained with; what it holds is checked. Fields the table does not know
 * are kept as written. Checkpoints written before the preprocessing left this file carry a copy of it
 * under `preprocess`: dropped, since preprocess.json is the one the model was built for.
 */
export function parseRunConfig(value: unknown): ResolvedRunConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('not a JSON object');
  }
  const { preprocess: _copy, ...saved } = value as Record<string, unknown>;
  const config = { ...runDefaults(), ...withoutUndefined(saved) };
  const problem = firstProblem(config, 'type');
  if (problem) throw new Error(problem);
  return config as ResolvedRunConfig;
}

/** The must-match settings (the table's `resume` column) whose values differ: "learningRate was 0.001, now 0.01". */
export function resumeDifferences(saved: ResolvedRunConfig, config: ResolvedRunConfig): string[] {
  return NAMES.filter((name) => RUN_SETTINGS[name].resume === 'must-match')
    .filter((name) => JSON.stringify(saved[name]) !== JSON.stringify(config[name]))
    .map((name) => `${name} was ${JSON.stringify(saved[name])}, now ${JSON.stringify(config[name])}`);
}

/** How the user names a setting: its flag (`--image-size`), or its field for those without one. */
export function settingLabel(name: SettingName): string {
  const row: SettingRow<unknown> = RUN_SETTINGS[name];
  return row.flag ? row.flag.split(' ')[0]! : name;
}

/** The first setting of `config` that is missing or bad; `type` checks only what readers rely on. */
function firstProblem(config: Record<string, unknown>, check: 'value' | 'type'): string | undefined {
  for (const name of NAMES) {
    const row: SettingRow<unknown> = RUN_SETTINGS[name];
    const value = config[name];
    if (value === undefined) {
      if (row.required) return `${check === 'type' ? name : settingLabel(name)} is missing`;
      continue;
    }
    if (check === 'type' && !row.value.hasType(value))
      return `${name} has the wrong type: ${JSON.stringify(value)}`;
    const problem = check === 'value' ? row.value.problem(value) : undefined;
    if (problem) return `${settingLabel(name)}: ${problem.replace(/\.$/, '')}`;
  }
  return undefined;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
