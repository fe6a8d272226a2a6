import { describe, expect, it } from 'vitest';
import { type LrSchedule, learningRateAt, shouldStopEarly } from '../../src/train/lr-schedule.ts';

const base: LrSchedule = {
  lrSchedule: 'constant',
  learningRate: 1e-3,
  warmupEpochs: 0,
  epochs: 4,
  stepsPerEpoch: 10,
};
const rates = (schedule: LrSchedule) =>
  Array.from({ length: schedule.epochs * schedule.stepsPerEpoch }, (_, step) =>
    learningRateAt(schedule, step),
  );

describe('learningRateAt', () => {
  it('constant without warm-up is the recipe: the base rate at every step', () => {
    expect(new Set(rates(base))).toEqual(new Set([1e-3]));
  });

  it('warms up linearly over warmupEpochs, reaching the base rate at the last warm-up step', () => {
    const schedule = { ...base, warmupEpochs: 1 };
    const values = rates(schedule);
    expect(values[0]).toBeCloseTo(1e-4, 12);
    expect(values[4]).toBeCloseTo(5e-4, 12);
    expect(values[9]).toBeCloseTo(1e-3, 12);
    expect(values.slice(10)).toEqual(Array(30).fill(1e-3));
  });

  it('cosine anneals from the base rate after the warm-up to 0 at the last step', () => {
    const schedule: LrSchedule = { ...base, lrSchedule: 'cosine', warmupEpochs: 1 };
    const values = rates(schedule);
    expect(values[9]).toBeCloseTo(1e-3, 12);
    expect(values[10]).toBeCloseTo(1e-3, 12);
    // Half-way through the 30 annealing steps (t = 14.5 / 29 = 0.5): half the base rate.
    expect((values[24]! + values[25]!) / 2).toBeCloseTo(5e-4, 5);
    expect(values[39]).toBeCloseTo(0, 12);
    for (let step = 11; step < values.length; step++) expect(values[step]).toBeLessThan(values[step - 1]!);
  });

  it('matches the closed form at a step picked at random', () => {
    const schedule: LrSchedule = { ...base, lrSchedule: 'cosine', epochs: 3, stepsPerEpoch: 7 };
    // No warm-up: 21 steps, t = step / 20.
    expect(learningRateAt(schedule, 13)).toBeCloseTo(1e-3 * 0.5 * (1 + Math.cos((Math.PI * 13) / 20)), 15);
  });
});

describe('shouldStopEarly', () => {
  it('stops after `patience` epochs without a better validation top-1, never without patience', () => {
    expect(shouldStopEarly(2, 5, 4)).toBe(false);
    expect(shouldStopEarly(2, 6, 4)).toBe(true);
    expect(shouldStopEarly(undefined, 60, 1)).toBe(false);
  });
});
