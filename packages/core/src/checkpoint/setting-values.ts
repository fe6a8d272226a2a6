/**
 * The kinds of value a training setting takes (run-settings.ts): how a flag's text becomes one, and why
 * a value from run-config.json or a library caller is not one. Parsers throw commander's
 * InvalidArgumentError, so a bad flag is one line ("option '--lr <rate>' argument 'x' is invalid. …").
 */
import { InvalidArgumentError } from 'commander';
import { BACKEND_NAMES, type BackendName, parseBackendName } from '../backend.ts';
import { TRAINABLE_SCOPES, type TrainableScope } from '../model/resnet50.ts';
import {
  parseNonNegativeInteger,
  parseNonNegativeNumber,
  parseOpenFraction,
  parsePositiveInteger,
  parsePositiveNumber,
} from '../parse-number.ts';

export interface SettingValue<T> {
  /** A flag's text to a value; throws saying what was expected. Absent for a switch (a boolean flag). */
  parse?: (text: string) => T;
  /** The allowed values, when `--help` lists them (commander's choices). */
  choices?: readonly T[];
  /** Why `value` is not one (a sentence fragment), or undefined when it is. */
  problem(value: unknown): string | undefined;
  /**
   * Whether `value` has the type (number, string, …), bounds aside: what a reader of a saved run config
   * checks, so that a checkpoint stays readable when a bound is added for new runs.
   */
  hasType(value: unknown): boolean;
}

/** A value that a flag's text stands for: checked by parsing its text back (`0.001` → "0.001" → 0.001). */
function fromText<T>(type: 'number' | 'string', parse: (text: string) => T): SettingValue<T> {
  return {
    parse,
    hasType: (value) => typeof value === type,
    problem: (value) =>
      typeof value === type ? parseProblem(parse, String(value)) : `expected a ${type}, got ${show(value)}`,
  };
}

function parseProblem(parse: (text: string) => unknown, text: string): string | undefined {
  try {
    parse(text);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

export const text = fromText('string', (value) => value);
export const positiveNumber = fromText('number', parsePositiveNumber);
export const nonNegativeNumber = fromText('number', parseNonNegativeNumber);
export const positiveInteger = fromText('number', parsePositiveInteger);
export const nonNegativeInteger = fromText('number', parseNonNegativeInteger);
/** A share strictly between 0 and 1 (`--val-fraction`). */
export const openFraction = fromText('number', parseOpenFraction);

/** An integer crop size: five stride-2 steps take 224 to 7, and below 32 a feature map shrinks to nothing. */
export const imageSize = fromText('number', (value) => {
  const size = parsePositiveInteger(value);
  if (size < 32) {
    throw new InvalidArgumentError(
      `expected an integer ≥ 32 (ResNet-50 halves it five times), got ${value}.`,
    );
  }
  return size;
});

/** Label smoothing ε: 1 would make every target uniform. */
export const fractionBelowOne = fromText('number', (value) => {
  const number = parseNonNegativeNumber(value);
  if (number >= 1) throw new InvalidArgumentError(`expected a number from 0 to below 1, got "${value}".`);
  return number;
});

export const switchValue: SettingValue<boolean> = {
  hasType: (value) => typeof value === 'boolean',
  problem: (value) => (typeof value === 'boolean' ? undefined : `expected true or false, got ${show(value)}`),
};

/** One of `values`, which `--help` lists. */
export function choice<T extends string>(values: readonly T[]): SettingValue<T> {
  const parse = (value: string): T => {
    if ((values as readonly string[]).includes(value)) return value as T;
    throw new InvalidArgumentError(`expected one of ${values.join(', ')}.`);
  };
  return { ...fromText('string', parse), choices: values };
}

/** `--trainable`: one of the scopes, which its help text names. */
export const trainableScope = fromText('string', (value): TrainableScope => {
  if ((TRAINABLE_SCOPES as readonly string[]).includes(value)) return value as TrainableScope;
  throw new InvalidArgumentError(`expected one of ${TRAINABLE_SCOPES.join(', ')}.`);
});

/** `--backend`: the names, and `gpu` for tensorflow; a saved config holds one of the names. */
export const backendName: SettingValue<BackendName> = {
  parse: parseBackendName,
  hasType: (value) => typeof value === 'string',
  problem: (value) =>
    (BACKEND_NAMES as readonly unknown[]).includes(value)
      ? undefined
      : `expected one of ${BACKEND_NAMES.join(', ')}, got ${show(value)}`,
};

/** `--accumulate K` or `auto`. */
export const accumulateValue: SettingValue<number | 'auto'> = {
  parse: (value) => (value === 'auto' ? value : parsePositiveInteger(value)),
  hasType: (value) => value === 'auto' || typeof value === 'number',
  problem: (value) => (value === 'auto' ? undefined : positiveInteger.problem(value)),
};

/** `--resume` alone is true; `--resume auto` starts the run when --out holds no checkpoint. */
export const resumeValue: SettingValue<boolean | 'auto'> = {
  parse: (value) => {
    if (value === 'auto') return value;
    throw new InvalidArgumentError(`expected "auto" or nothing, got "${value}".`);
  },
  hasType: (value) => value === 'auto' || typeof value === 'boolean',
  problem: (value) => (value === 'auto' ? undefined : switchValue.problem(value)),
};

export type BlocksPerStage = [number, number, number, number];

/** Four positive integers such as 3,4,6,3 (a saved config holds them as an array). */
export const blocksPerStage: SettingValue<BlocksPerStage> = {
  parse: parseBlocks,
  hasType: Array.isArray,
  problem: (value) =>
    Array.isArray(value)
      ? parseProblem(parseBlocks, value.join(','))
      : `expected four integers, got ${show(value)}`,
};

function parseBlocks(value: string): BlocksPerStage {
  const blocks = value.split(',').map(Number);
  if (blocks.length !== 4 || !blocks.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new InvalidArgumentError(`expected four positive integers such as 3,4,6,3, got "${value}".`);
  }
  return blocks as BlocksPerStage;
}

export interface DatasetInfo {
  name: string;
  synthetic: boolean;
}

/** What the model card says a run was trained on (set by `pnpm demo`, not a flag). */
export const datasetValue: SettingValue<DatasetInfo> = {
  hasType: (value) => datasetValue.problem(value) === undefined,
  problem: (value) => {
    const dataset = value as Partial<DatasetInfo> | null;
    return typeof dataset?.name === 'string' && typeof dataset.synthetic === 'boolean'
      ? undefined
      : `expected { name, synthetic }, got ${show(value)}`;
  },
};
